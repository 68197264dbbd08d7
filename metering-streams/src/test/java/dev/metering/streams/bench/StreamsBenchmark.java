package dev.metering.streams.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.UsageEvent;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerializer;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.StreamsAppConfig.Guarantee;
import dev.metering.streams.TopicProvisioner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Throughput of the topology against the raw consume rate of its input (a command, not a test).
 *
 * <pre>
 * StreamsBenchmark [events=2000000] [orgs=10000] [partitions=4] [threads=1]
 * </pre>
 *
 * Uses {@code METERING_KAFKA_BOOTSTRAP} and {@code METERING_SCHEMA_REGISTRY_URL} when set, else
 * starts a real local broker and registry (metering-devstack); other {@code METERING_STREAMS_*}
 * and {@code METERING_KAFKA_*} variables tune the application as in production. Steps: load N events (20 models,
 * 5 users per org, spread over the last 24 hours) into a fresh input topic; read them all with a
 * plain byte-array consumer (raw rate); run the topology with exactly_once_v2, then with
 * at_least_once, each from a fresh application id, timing start → the last input offset
 * committed (under exactly-once that is the transaction holding the last aggregates). Prints
 * events/s and the ratios.
 */
public final class StreamsBenchmark {

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        int orgs = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int partitions = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        String bootstrap = System.getenv().getOrDefault("METERING_KAFKA_BOOTSTRAP", "");
        String registryUrl = System.getenv().getOrDefault("METERING_SCHEMA_REGISTRY_URL", "");
        if (bootstrap.isEmpty() || registryUrl.isEmpty()) {
            System.out.println("starting a local broker and registry (metering-devstack) ...");
            bootstrap = TestInfra.kafka().bootstrapServers();
            registryUrl = TestInfra.registry().confluentUrl();
        }
        String run = UUID.randomUUID().toString().substring(0, 8);
        Topics topics = new Topics("bench-" + run + ".");
        Path stateRoot = Files.createTempDirectory("metering-streams-bench-");
        Map<String, String> env = new HashMap<>();
        // tuning knobs pass through: METERING_STREAMS_COMMIT_INTERVAL, METERING_KAFKA_*
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("METERING_STREAMS_") || k.startsWith("METERING_KAFKA_")) {
                env.put(k, v);
            }
        });
        env.put("METERING_KAFKA_BOOTSTRAP", bootstrap);
        env.put("METERING_SCHEMA_REGISTRY_URL", registryUrl);
        env.put("METERING_TOPIC_PREFIX", topics.prefix());
        env.put("METERING_TOPIC_PARTITIONS", Integer.toString(partitions));
        env.put("METERING_STREAMS_THREADS", Integer.toString(threads));
        env.put("METERING_STREAMS_METRICS_PORT", "-1");
        StreamsAppConfig base = StreamsAppConfig.load(ConfigSource.of(env));
        TopicProvisioner.ensureTopics(base.kafkaProperties(), topics, partitions, base.replicationFactor(), true);

        System.out.printf("loading %,d events over %,d orgs into %s (%d partitions) ...%n", events, orgs, topics.events(),
                partitions);
        long loadStart = System.nanoTime();
        load(bootstrap, registryUrl, topics, events, orgs);
        System.out.printf("loaded in %.1f s%n", (System.nanoTime() - loadStart) / 1e9);

        double raw = rawConsumeRate(bootstrap, topics.events(), events);
        System.out.printf("raw consume:          %,10.0f events/s%n", raw);
        double eos = topologyRate(base, Guarantee.EXACTLY_ONCE_V2, "eos-" + run, stateRoot, bootstrap, topics, events);
        double alos = topologyRate(base, Guarantee.AT_LEAST_ONCE, "alos-" + run, stateRoot, bootstrap, topics, events);

        System.out.println();
        System.out.printf("events                %,d over %,d orgs, %d partitions, %d stream thread(s), %d cores, "
                + "commit interval %s%n", events, orgs, partitions, threads,
                Runtime.getRuntime().availableProcessors(), base.commitInterval());
        System.out.printf("raw consume           %,10.0f events/s%n", raw);
        System.out.printf("topology exactly-once %,10.0f events/s%n", eos);
        System.out.printf("topology at-least-once%,10.0f events/s%n", alos);
        System.out.printf("EOS / raw             %10.3f   (target >= 0.2)%n", eos / raw);
        System.out.printf("EOS / ALOS            %10.3f   (target >= 0.85)%n", eos / alos);
        System.exit(0);
    }

    private static void load(String bootstrap, String registryUrl, Topics topics, int events, int orgs) {
        SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(Map.of(HttpSchemaRegistryClient.URL_CONFIG, registryUrl));
        AvroSerializer<Object> serializer = new AvroSerializer<>(registry, Map.of(), false);
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 50);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L * 1024 * 1024);
        Random random = new Random(42);
        List<String[]> models = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int m = 0; m < 20; m++) {
                String provider = "provider-" + (m % 4);
                String model = "model-" + m;
                models.add(new String[] {provider, model});
                ModelPrice price = ModelPrice.newBuilder().setProvider(provider).setModel(model)
                        .setEffectiveFrom(Instant.parse("2026-01-01T00:00:00Z")).setInputPer1MNanos(250_000_000L * (m + 1))
                        .setCachedInputPer1MNanos(25_000_000L * (m + 1)).setOutputPer1MNanos(1_000_000_000L * (m + 1))
                        .setUnitNanos(null).setHistory(List.of()).build();
                producer.send(new ProducerRecord<>(topics.prices(), (provider + "/" + model).getBytes(UTF_8),
                        serializer.serialize(topics.prices(), price)));
            }
            long start = Instant.now().minus(Duration.ofHours(25)).truncatedTo(ChronoUnit.HOURS).toEpochMilli();
            long span = Duration.ofHours(24).toMillis();
            for (int i = 0; i < events; i++) {
                String org = "org-" + random.nextInt(orgs);
                String[] model = models.get(random.nextInt(models.size()));
                boolean chat = random.nextInt(3) == 0;
                UsageEvent.Builder e = UsageEvent.newBuilder()
                        .setEventId("b-" + i)
                        .setOrgId(org)
                        // roughly in order, as a live stream is, with a little jitter
                        .setOccurredAt(Instant.ofEpochMilli(start + span * i / events + random.nextInt(60_000)))
                        .setUserId("user-" + random.nextInt(5))
                        .setAttributes(new HashMap<>());
                if (chat) {
                    e.setFeature("CHAT_MESSAGE");
                } else {
                    e.setFeature("AI_COMPLETION").setProvider(model[0]).setModel(model[1])
                            .setInputTokens(random.nextInt(4000)).setOutputTokens(random.nextInt(1000));
                }
                producer.send(new ProducerRecord<>(topics.events(), org.getBytes(UTF_8), serializer.serialize(topics.events(), e.build())));
            }
            producer.flush();
        }
    }

    private static double rawConsumeRate(String bootstrap, String topic, int events) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long start = System.nanoTime();
            long read = 0;
            long bytes = 0;
            while (read < events) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
                for (var r : batch) {
                    read++;
                    bytes += r.value().length;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("raw consume: %,d records (%,d value bytes) in %.2f s%n", read, bytes, seconds);
            return read / seconds;
        }
    }

    private static double topologyRate(StreamsAppConfig base, Guarantee guarantee, String applicationId, Path stateRoot,
            String bootstrap, Topics topics, int events) throws Exception {
        StreamsAppConfig config = base.withGuarantee(guarantee).withApplicationId("metering-streams-bench-" + applicationId)
                .withStateDir(stateRoot.resolve(applicationId));
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Set<TopicPartition> partitions = admin.describeTopics(List.of(topics.events())).allTopicNames().get()
                    .get(topics.events()).partitions().stream()
                    .map(p -> new TopicPartition(topics.events(), p.partition())).collect(Collectors.toSet());
            long end = admin.listOffsets(partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                    .all().get().values().stream().mapToLong(i -> i.offset()).sum();
            long start = System.nanoTime();
            long firstRecordAt = 0;
            try (StreamsApp app = StreamsApp.start(config)) {
                while (true) {
                    if (firstRecordAt == 0 && app.metrics().count("events_in") > 0) {
                        firstRecordAt = System.nanoTime();
                    }
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(config.applicationId())
                            .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                    long done = committed.entrySet().stream()
                            .filter(e -> partitions.contains(e.getKey()) && e.getValue() != null)
                            .mapToLong(e -> e.getValue().offset()).sum();
                    if (done >= end) {
                        break;
                    }
                    if (app.failed()) {
                        throw new IllegalStateException(guarantee + " run failed");
                    }
                    TimeUnit.MILLISECONDS.sleep(100); // a command, not a test: poll the committed offsets
                }
                double total = (System.nanoTime() - start) / 1e9;
                double processing = (System.nanoTime() - firstRecordAt) / 1e9;
                System.out.printf("%-15s %,d events: %.2f s from start (%,.0f events/s), %.2f s from the first record "
                        + "(%,.0f events/s); accepted %,d, duplicates %,d%n", guarantee.value(), events, total, events / total,
                        processing, events / processing, app.metrics().count("accepted"), app.metrics().count("duplicates"));
                return events / total;
            }
        }
    }
}
