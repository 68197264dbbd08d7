package dev.metering.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerIT {

    private final KafkaBroker broker = TestInfra.kafka();

    @Test
    void shouldCreateTopicAndDeliverProducedRecordToConsumer() throws Exception {
        String topic = "devstack.roundtrip";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).contains(topic);
        }

        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(new ProducerRecord<>(topic, "acme", "hello")).get(30, TimeUnit.SECONDS);
        }

        try (KafkaConsumer<String, String> consumer = consumer()) {
            consumer.subscribe(Set.of(topic));
            List<ConsumerRecord<String, String>> received = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (received.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(received::add);
            }
            assertThat(received).hasSize(1);
            assertThat(received.get(0).key()).isEqualTo("acme");
            assertThat(received.get(0).value()).isEqualTo("hello");
        }
    }

    @Test
    void shouldFailSendWhileStoppedAndDeliverAgainAfterRestart() throws Exception {
        String topic = "devstack.outage";
        try (KafkaBroker own = KafkaBroker.start(KafkaBroker.Options.defaults());
             KafkaProducer<String, String> producer = producer(own, Map.of(
                     ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000,
                     ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000,
                     ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 4_000,
                     ProducerConfig.LINGER_MS_CONFIG, 0))) {
            RecordMetadata before = producer.send(new ProducerRecord<>(topic, "acme", "before")).get(30, TimeUnit.SECONDS);
            assertThat(before.offset()).isEqualTo(0);

            own.stop();
            assertThat(own.isRunning()).isFalse();
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(topic, "acme", "during")).get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(TimeoutException.class);

            own.start();
            RecordMetadata after = sendUntilAccepted(producer, new ProducerRecord<>(topic, "acme", "after"));
            assertThat(after.topic()).isEqualTo(topic);
            assertThat(after.offset()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void shouldStartAnotherInstanceOnTheDataOfAnEarlierOneAndKeepItsRecords(@TempDir Path dataDir) throws Exception {
        String topic = "devstack.reuse";
        KafkaBroker.Options options = KafkaBroker.Options.defaults().withDataDir(dataDir);
        try (KafkaBroker first = KafkaBroker.start(options); KafkaProducer<String, String> producer = producer(first, Map.of())) {
            producer.send(new ProducerRecord<>(topic, "acme", "kept")).get(30, TimeUnit.SECONDS);
        }

        // a new instance, as a restarted dev mode makes: it must reuse the cluster id of the storage
        try (KafkaBroker second = KafkaBroker.start(options); KafkaConsumer<String, String> consumer = consumer(second)) {
            consumer.subscribe(Set.of(topic));
            List<ConsumerRecord<String, String>> received = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (received.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(received::add);
            }
            assertThat(received).extracting(ConsumerRecord::value).containsExactly("kept");
        }
    }

    @Test
    void shouldRunExactlyOnceStreamsApplication() throws Exception {
        String in = "devstack.eos.in";
        String out = "devstack.eos.out";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(in, 2, (short) 1), new NewTopic(out, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(in, Consumed.with(Serdes.String(), Serdes.String()))
                .mapValues(v -> v.toUpperCase(java.util.Locale.ROOT), Named.as("upper"))
                .to(out, Produced.with(Serdes.String(), Serdes.String()));
        Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, "devstack-eos");
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        config.put(StreamsConfig.STATE_DIR_CONFIG, Dirs.newTempDataDir("streams-").toString());
        config.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        try (KafkaStreams streams = new KafkaStreams(builder.build(), config);
             KafkaProducer<String, String> producer = producer();
             KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ConsumerConfig.GROUP_ID_CONFIG, "devstack-eos-reader",
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                     ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                     new StringDeserializer(), new StringDeserializer())) {
            streams.start();
            for (String value : List.of("a", "b", "c")) {
                producer.send(new ProducerRecord<>(in, "acme", value)).get(30, TimeUnit.SECONDS);
            }

            consumer.subscribe(Set.of(out));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (values.size() < 3 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
            }
            assertThat(values).containsExactly("A", "B", "C");
            assertThat(streams.state()).isEqualTo(KafkaStreams.State.RUNNING);
        }
    }

    private static RecordMetadata sendUntilAccepted(KafkaProducer<String, String> producer, ProducerRecord<String, String> record)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                return producer.send(record).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the restarted broker did not accept a record within 60 s", e);
                }
            }
        }
    }

    private KafkaProducer<String, String> producer() {
        return producer(broker, Map.of());
    }

    private static KafkaProducer<String, String> producer(KafkaBroker target, Map<String, Object> overrides) {
        Map<String, Object> config = new java.util.HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true));
        config.putAll(overrides);
        return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer() {
        return consumer(broker);
    }

    private static KafkaConsumer<String, String> consumer(KafkaBroker target) {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "devstack-roundtrip",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), new StringDeserializer());
    }
}
