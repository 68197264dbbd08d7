package dev.metering.streams.it;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.events.DeadLetterHeaders;
import dev.metering.events.Topics;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroDeserializer;
import dev.metering.events.serde.AvroSerializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Test-side clients of the pipeline's topics on the real broker and registry. */
public final class Pipeline implements AutoCloseable {

    public final String bootstrap;
    public final String registryUrl;
    public final Topics topics;
    public final SchemaRegistryClient registry;
    private final KafkaProducer<byte[], byte[]> producer;
    private final AvroSerializer<Object> serializer;

    public Pipeline(String bootstrap, String registryUrl, Topics topics) {
        this.bootstrap = bootstrap;
        this.registryUrl = registryUrl;
        this.topics = topics;
        this.registry = HttpSchemaRegistryClient.fromConfig(Map.of(HttpSchemaRegistryClient.URL_CONFIG, registryUrl));
        this.serializer = new AvroSerializer<>(registry, Map.of(), false);
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(), new ByteArraySerializer());
    }

    public byte[] encode(UsageEvent event) {
        return serializer.serialize(topics.events(), event);
    }

    /** A record of any schema, registered under the events topic's subject as a producer's serializer would. */
    public byte[] encode(org.apache.avro.generic.GenericRecord record) {
        return serializer.serialize(topics.events(), record);
    }

    public void sendPrices(List<ModelPrice> prices) {
        for (ModelPrice p : prices) {
            producer.send(new ProducerRecord<>(topics.prices(), (p.getProvider() + "/" + p.getModel()).getBytes(UTF_8),
                    serializer.serialize(topics.prices(), p)));
        }
        producer.flush();
    }

    /** Sends events keyed by orgId (default partitioner), as our producers do. */
    public void sendEvents(List<UsageEvent> events) {
        for (UsageEvent e : events) {
            sendRaw(e.getOrgId().getBytes(UTF_8), encode(e));
        }
        producer.flush();
    }

    public Future<RecordMetadata> sendRaw(byte[] key, byte[] value) {
        return producer.send(new ProducerRecord<>(topics.events(), key, value));
    }

    /** One raw record to any topic, flushed. */
    public void sendRawTo(String topic, byte[] key, byte[] value) {
        producer.send(new ProducerRecord<>(topic, key, value));
        producer.flush();
    }

    public void flush() {
        producer.flush();
    }

    /** Offsets committed by the application's consumer group on the events topic, summed. */
    public long committed(String applicationId) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(applicationId)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topics.events()) && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset()).sum();
        }
    }

    /** End offsets of the events topic, summed. */
    public long produced() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Set<TopicPartition> partitions = admin.describeTopics(List.of(topics.events())).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(topics.events()).partitions().stream()
                    .map(p -> new TopicPartition(topics.events(), p.partition())).collect(Collectors.toSet());
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(
                    partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get(30, TimeUnit.SECONDS);
            return ends.values().stream().mapToLong(ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
        }
    }

    /** A read_committed reader of the aggregates topic keeping the highest version per key, as the sink does. */
    public AggregatesReader aggregatesReader() {
        return new AggregatesReader();
    }

    /** A read_committed reader of the dead-letter topic counting by reason. */
    public DeadLetterReader deadLetterReader() {
        return new DeadLetterReader();
    }

    private KafkaConsumer<byte[], byte[]> consumer(String topic) {
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = c.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        c.assign(partitions);
        c.seekToBeginning(partitions);
        return c;
    }

    public final class AggregatesReader implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer = consumer(topics.aggregates());
        private final AvroDeserializer<UsageWindowKey> keys = new AvroDeserializer<>(registry, UsageWindowKey.class);
        private final AvroDeserializer<UsageWindowTotals> values = new AvroDeserializer<>(registry, UsageWindowTotals.class);
        private final Map<UsageWindowKey, UsageWindowTotals> latest = new HashMap<>();
        private long records;

        /** Reads what is there now; returns the highest version per key. */
        public Map<UsageWindowKey, UsageWindowTotals> poll() {
            for (int i = 0; i < 50; i++) {
                var batch = consumer.poll(Duration.ofMillis(200));
                if (batch.isEmpty()) {
                    break;
                }
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    records++;
                    UsageWindowKey k = keys.deserialize(r.topic(), r.key());
                    UsageWindowTotals v = values.deserialize(r.topic(), r.value());
                    UsageWindowTotals known = latest.get(k);
                    if (known == null || v.getVersion() > known.getVersion()) {
                        latest.put(k, v);
                    }
                }
            }
            return latest;
        }

        public long records() {
            return records;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    public final class DeadLetterReader implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer = consumer(topics.deadLetters());
        private final List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();

        public Map<String, Long> byReason() {
            for (int i = 0; i < 20; i++) {
                var batch = consumer.poll(Duration.ofMillis(200));
                if (batch.isEmpty()) {
                    break;
                }
                batch.forEach(all::add);
            }
            Map<String, Long> counts = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : all) {
                Header h = r.headers().lastHeader(DeadLetterHeaders.REASON);
                counts.merge(h == null ? "?" : new String(h.value(), UTF_8), 1L, Long::sum);
            }
            return counts;
        }

        public List<ConsumerRecord<byte[], byte[]>> records() {
            return List.copyOf(all);
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
