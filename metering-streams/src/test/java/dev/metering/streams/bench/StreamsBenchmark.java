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
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
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
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

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
 * 5 users per org, spread over the last 24 hours) into a fresh input topic, counting the distinct
 * window rows they fall into; read them all with a plain byte-array consumer (raw rate, median of
 * three passes); run the topology with exactly_once_v2, then with at_least_once, each from a fresh
 * application id, timing start → the last input offset committed (under exactly-once that is the
 * transaction holding the last aggregates), with the stream thread's and producer's own metrics
 * and the records written per topic. Then the reference: the windowed count a Kafka Streams user
 * writes with the DSL ({@code groupByKey().windowedBy(1 h, grace).count()}), same input, guarantee
 * and settings. Then the framework floor: Kafka Streams alone with
 * exactly-once, no state and no work, reading only, and writing as many records per event as the
 * least any topology must emit (the distinct rows) and as the topology did. Prints events/s and
 * the ratios.
 *
 * <p>System properties: {@code -Dbench.eosOnly=true} stops after the exactly-once run (for
 * profiling); {@code -Dbench.jfr=<file>} records a JFR profile of the exactly-once run from a
 * quarter of the input committed to the end (steady state, no start-up), as does the CPU per
 * event printed as "steady state".
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
        StreamsAppConfig base = StreamsAppConfig.from(ConfigSource.of(env));
        TopicProvisioner.ensureTopics(base.kafkaProperties(), topics, partitions, base.replicationFactor(), true);

        System.out.printf("loading %,d events over %,d orgs into %s (%d partitions) ...%n", events, orgs, topics.events(),
                partitions);
        long loadStart = System.nanoTime();
        long distinctRows = load(bootstrap, registryUrl, topics, events, orgs);
        System.out.printf("loaded in %.1f s%n", (System.nanoTime() - loadStart) / 1e9);

        // a pass takes about a second: the median of three
        double[] passes = {rawConsumeRate(bootstrap, topics.events(), events), rawConsumeRate(bootstrap, topics.events(), events),
            rawConsumeRate(bootstrap, topics.events(), events)};
        Arrays.sort(passes);
        double raw = passes[1];
        System.out.printf("raw consume:          %,10.0f events/s (median of 3 passes)%n", raw);
        Run eosRun = topologyRate(base, Guarantee.EXACTLY_ONCE_V2, "eos-" + run, stateRoot, bootstrap, topics, events);
        if (Boolean.getBoolean("bench.eosOnly")) { // profiling one topology run
            System.exit(0);
        }
        Run alosRun = topologyRate(base, Guarantee.AT_LEAST_ONCE, "alos-" + run, stateRoot, bootstrap, topics, events);
        Run reference = referenceRate(base, "ref-" + run, stateRoot, bootstrap, topics, events);
        double eos = eosRun.rate();
        double alos = alosRun.rate();
        // the framework floor: what Kafka Streams does here with no work at all, and when it only
        // writes as many records per event as the topology wrote to the aggregates topic (the
        // output the contract asks for: every row changed in a commit, at this data shape)
        double leastPerEvent = (double) distinctRows / events;
        double floor0 = floorRate(base, "floor0-" + run, stateRoot, bootstrap, topics, 0, events);
        double floorLeast = floorRate(base, "floorL-" + run, stateRoot, bootstrap, topics, leastPerEvent, events);
        double floorOwn = floorRate(base, "floorT-" + run, stateRoot, bootstrap, topics, eosRun.aggregatesPerEvent(), events);

        System.out.println();
        System.out.printf("events                %,d over %,d orgs, %d partitions, %d stream thread(s), %d cores, "
                + "commit interval %s%n", events, orgs, partitions, threads,
                Runtime.getRuntime().availableProcessors(), base.commitInterval());
        System.out.printf("raw consume           %,10.0f events/s%n", raw);
        System.out.printf("topology exactly-once %,10.0f events/s%n", eos);
        System.out.printf("topology at-least-once%,10.0f events/s%n", alos);
        System.out.printf("EOS / raw             %10.3f   (target >= 0.2)%n", eos / raw);
        System.out.printf("EOS / ALOS            %10.3f   (target >= 0.85)%n", eos / alos);
        System.out.printf("reference: DSL windowed count, exactly-once %,10.0f events/s (%.2f records written per event); "
                + "topology exactly-once / reference %.3f%n", reference.rate(), reference.writtenPerEvent(), eos / reference.rate());
        System.out.printf("records written per event (exactly-once): %.2f to the aggregates topic, %.2f in all (with the "
                + "changelogs)%n", eosRun.aggregatesPerEvent(), eosRun.writtenPerEvent());
        System.out.printf("distinct window rows in the data: %,d = %.2f per event (the least any topology must emit, "
                + "coalescing without limit)%n", distinctRows, leastPerEvent);
        System.out.println("Kafka Streams alone, exactly-once, same input and settings, no state, no work (an upper bound "
                + "for any topology writing as many records per event):");
        System.out.printf("  reading only                       %,10.0f events/s   %.3f x raw%n", floor0, floor0 / raw);
        System.out.printf("  writing %.2f records per event      %,10.0f events/s   %.3f x raw   (the least output)%n",
                leastPerEvent, floorLeast, floorLeast / raw);
        System.out.printf("  writing %.2f records per event      %,10.0f events/s   %.3f x raw   (the topology's output; "
                + "the topology reaches %.3f x this)%n", eosRun.aggregatesPerEvent(), floorOwn, floorOwn / raw, eos / floorOwn);
        System.exit(0);
    }

    /**
     * Loads the events; returns the number of distinct window rows they fall into (HOUR and DAY x
     * DETAIL and ORG grains): every row must be emitted at least once, so no topology that keeps the
     * contract writes fewer aggregate records than this, whatever it coalesces.
     */
    private static long load(String bootstrap, String registryUrl, Topics topics, int events, int orgs) {
        Set<String> rows = new HashSet<>();
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
                UsageEvent event = e.build();
                long hour = event.getOccurredAt().toEpochMilli() / 3_600_000L;
                String detail = org + '|' + event.getUserId() + '|' + event.getFeature() + '|' + event.getProvider() + '|'
                        + event.getModel();
                String total = org + '|' + event.getFeature();
                rows.add("h" + hour + detail);
                rows.add("d" + hour / 24 + detail);
                rows.add("H" + hour + total);
                rows.add("D" + hour / 24 + total);
                producer.send(new ProducerRecord<>(topics.events(), org.getBytes(UTF_8), serializer.serialize(topics.events(), event)));
            }
            producer.flush();
        }
        return rows.size();
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

    /** One run of the topology: its rate and what it wrote per input event. */
    private record Run(double rate, double aggregatesPerEvent, double writtenPerEvent) {
    }

    /**
     * Where the stream thread's time went and what the application wrote, from Kafka's own metrics;
     * returns the records written per topic.
     */
    private static Map<String, Double> printThreadMetrics(KafkaStreams streams, String applicationId) {
        Map<String, Double> thread = new TreeMap<>();
        Map<String, Double> sentByTopic = new TreeMap<>();
        streams.metrics().forEach((name, metric) -> {
            if (!(metric.metricValue() instanceof Number n)) {
                return;
            }
            if (name.group().equals("stream-thread-metrics") && Set.of("poll-ratio", "process-ratio", "commit-ratio",
                    "blocked-time-ns-total", "commit-latency-avg", "commit-total").contains(name.name())) {
                thread.merge(name.name(), n.doubleValue(), Double::sum);
            }
            if (name.group().equals("producer-metrics") && Set.of("flush-time-ns-total", "txn-send-offsets-time-ns-total",
                    "txn-commit-time-ns-total", "record-retry-total", "records-per-request-avg").contains(name.name())) {
                thread.merge("producer." + name.name(), n.doubleValue(), Double::sum);
            }
            if (name.group().equals("producer-topic-metrics") && name.name().equals("record-send-total")) {
                sentByTopic.merge(name.tags().get("topic").replace(applicationId + "-", ""), n.doubleValue(), Double::sum);
            }
        });
        StringBuilder line = new StringBuilder("  stream thread and producer:");
        thread.forEach((k, v) -> line.append(String.format(" %s=%,.3f", k.replace("-ns-total", "-s"),
                k.endsWith("-ns-total") ? v / 1e9 : v)));
        System.out.println(line);
        StringBuilder sent = new StringBuilder("  records written by topic:");
        sentByTopic.forEach((k, v) -> sent.append(String.format(" %s=%,.0f", k, v)));
        System.out.println(sent);
        return sentByTopic;
    }

    /**
     * CPU time of the application's threads per event, by thread kind: unlike events/s, it barely
     * depends on what else runs on the machine.
     */
    private static void printCpuPerEvent(String applicationId, int events, Progress steady) {
        Map<String, Long> byKind = cpuByKind(applicationId);
        StringBuilder line = new StringBuilder("  CPU per event:");
        byKind.forEach((k, v) -> line.append(String.format(" %s %.1f us", k, v / 1e3 / events)));
        if (steady.events() > 0 && steady.events() < events) {
            // from a quarter of the input committed to the end: without start-up and JIT warm-up
            line.append(String.format(";  steady state (last %,d events):", events - steady.events()));
            byKind.forEach((k, v) -> line.append(String.format(" %s %.1f us", k,
                    (v - steady.cpu().getOrDefault(k, 0L)) / 1e3 / (events - steady.events()))));
        }
        System.out.println(line);
    }

    /** A JFR recording with the JDK's "profile" settings, started now. */
    private static Recording startProfile() {
        try {
            Recording r = new Recording(Configuration.getConfiguration("profile"));
            r.start();
            return r;
        } catch (IOException | ParseException e) {
            throw new IllegalStateException("cannot start the JFR recording", e);
        }
    }

    /** CPU time of the application's threads (nanoseconds), by thread kind. */
    private static Map<String, Long> cpuByKind(String applicationId) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> byKind = new TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!t.getName().contains(applicationId)) {
                continue;
            }
            long cpu = mx.getThreadCpuTime(t.getId());
            if (cpu > 0) {
                String kind = t.getName().contains("producer") ? "producer" : t.getName().contains("StreamThread") ? "stream-thread"
                        : t.getName().contains("GlobalStreamThread") ? "global" : "other";
                byKind.merge(kind, cpu, Long::sum);
            }
        }
        return byKind;
    }

    /** Input events committed and the application's CPU time by thread kind at that moment. */
    private record Progress(long events, Map<String, Long> cpu) {
    }

    private static Run topologyRate(StreamsAppConfig base, Guarantee guarantee, String applicationId, Path stateRoot,
            String bootstrap, Topics topics, int events) throws Exception {
        StreamsAppConfig config = base.withGuarantee(guarantee).withApplicationId("metering-streams-bench-" + applicationId)
                .withStateDir(stateRoot.resolve(applicationId));
        long start = System.nanoTime();
        try (StreamsApp app = StreamsApp.start(config)) {
            Progress[] steady = {new Progress(0, Map.of())};
            String jfr = System.getProperty("bench.jfr", "");
            Recording[] recording = {null};
            awaitCommitted(bootstrap, config.applicationId(), topics.events(), app::failed, done -> {
                if (steady[0].events() == 0 && done >= events / 4) {
                    steady[0] = new Progress(done, cpuByKind(config.applicationId()));
                    if (!jfr.isEmpty() && guarantee == Guarantee.EXACTLY_ONCE_V2) {
                        recording[0] = startProfile();
                    }
                }
            });
            double total = (System.nanoTime() - start) / 1e9;
            if (recording[0] != null) {
                recording[0].stop();
                recording[0].dump(Path.of(jfr));
                recording[0].close();
                System.out.println("  steady-state profile of the exactly-once run: " + jfr);
            }
            System.out.printf("%-15s %,d events: %.2f s from start (%,.0f events/s); accepted %,d, duplicates %,d%n",
                    guarantee.value(), events, total, events / total, app.metrics().count("accepted"),
                    app.metrics().count("duplicates"));
            Map<String, Double> written = printThreadMetrics(app.streams(), config.applicationId());
            printCpuPerEvent(config.applicationId(), events, steady[0]);
            double aggregates = written.getOrDefault(topics.aggregates(), 0.0);
            double all = written.values().stream().mapToDouble(Double::doubleValue).sum();
            return new Run(events / total, aggregates / events, all / events);
        }
    }

    /**
     * The service's properties for a topology without emissions: it commits on Kafka Streams' timer
     * only, so the timer runs at the interval the topology's emissions commit at.
     */
    private static java.util.Properties timerCommitted(StreamsAppConfig config) {
        java.util.Properties p = StreamsApp.streamsProperties(config);
        p.put(org.apache.kafka.streams.StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitInterval().toMillis());
        return p;
    }

    /**
     * The reference: the windowed count a Kafka Streams user writes with the DSL, on the same input,
     * guarantee and settings as the topology ({@link StreamsApp#streamsProperties}, so also its record
     * cache size): a count per org (the record key) and hour of the record's timestamp, with the
     * topology's grace, every update written to an output topic. It decodes nothing: what Kafka
     * Streams' own windowed aggregation costs per event.
     */
    private static Run referenceRate(StreamsAppConfig base, String applicationId, Path stateRoot, String bootstrap,
            Topics topics, int events) throws Exception {
        StreamsAppConfig config = base.withGuarantee(Guarantee.EXACTLY_ONCE_V2)
                .withApplicationId("metering-streams-bench-" + applicationId).withStateDir(stateRoot.resolve(applicationId));
        String out = topics.prefix() + "reference-" + applicationId;
        createLike(bootstrap, topics.events(), out);
        Duration hour = Duration.ofHours(1);
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(topics.events(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("reference-source"))
                .groupByKey(Grouped.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .windowedBy(TimeWindows.ofSizeAndGrace(hour, base.grace()))
                .count(Named.as("reference-count"), Materialized.<byte[], Long, WindowStore<Bytes, byte[]>>as("reference-counts")
                        .withKeySerde(Serdes.ByteArray()).withValueSerde(Serdes.Long()))
                .toStream(Named.as("reference-updates"))
                .to(out, Produced.with(WindowedSerdes.timeWindowedSerdeFrom(byte[].class, hour.toMillis()), Serdes.Long()));
        long start = System.nanoTime();
        boolean[] failed = {false};
        try (KafkaStreams streams = new KafkaStreams(builder.build(), timerCommitted(config))) {
            streams.setUncaughtExceptionHandler(e -> {
                failed[0] = true;
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });
            streams.start();
            awaitCommitted(bootstrap, config.applicationId(), topics.events(), () -> failed[0]);
            double total = (System.nanoTime() - start) / 1e9;
            System.out.printf("reference (DSL windowed count) exactly_once_v2 %,d events: %.2f s from start (%,.0f events/s)%n",
                    events, total, events / total);
            Map<String, Double> written = printThreadMetrics(streams, config.applicationId());
            double all = written.values().stream().mapToDouble(Double::doubleValue).sum();
            return new Run(events / total, written.getOrDefault(out, 0.0) / events, all / events);
        }
    }

    /** Creates {@code topic} with as many partitions as {@code like}. */
    private static void createLike(String bootstrap, String like, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            int partitions = admin.describeTopics(List.of(like)).allTopicNames().get().get(like).partitions().size();
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty()))).all().get();
        }
    }

    /**
     * Kafka Streams alone, on the same input, machine and settings: a topology without state that
     * forwards {@code outputsPerEvent} records of the input's size per input record on average (0:
     * reads only). An upper bound for any topology that writes that many records per event.
     */
    private static double floorRate(StreamsAppConfig base, String applicationId, Path stateRoot, String bootstrap,
            Topics topics, double outputsPerEvent, int events) throws Exception {
        StreamsAppConfig config = base.withGuarantee(Guarantee.EXACTLY_ONCE_V2)
                .withApplicationId("metering-streams-bench-" + applicationId).withStateDir(stateRoot.resolve(applicationId));
        String out = topics.prefix() + "floor-" + applicationId;
        createLike(bootstrap, topics.aggregates(), out);
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(topics.events(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .process(() -> new Processor<byte[], byte[], byte[], byte[]>() {
                    private ProcessorContext<byte[], byte[]> context;
                    private double owed;
                    private byte serial;

                    @Override
                    public void init(ProcessorContext<byte[], byte[]> context) {
                        this.context = context;
                    }

                    @Override
                    public void process(Record<byte[], byte[]> record) {
                        // a fractional rate on average: 1.98 is 1 or 2 records, 1.98 per input overall
                        for (owed += outputsPerEvent; owed >= 1; owed--) {
                            byte[] key = Arrays.copyOf(record.key(), record.key().length + 1);
                            key[key.length - 1] = serial++;
                            context.forward(record.withKey(key));
                        }
                    }
                }).to(out, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        long start = System.nanoTime();
        boolean[] failed = {false};
        try (KafkaStreams streams = new KafkaStreams(builder.build(), timerCommitted(config))) {
            streams.setUncaughtExceptionHandler(e -> {
                failed[0] = true;
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });
            streams.start();
            awaitCommitted(bootstrap, config.applicationId(), topics.events(), () -> failed[0]);
            double total = (System.nanoTime() - start) / 1e9;
            System.out.printf("floor exactly_once_v2, %.2f output(s)/event: %,d events in %.2f s (%,.0f events/s)%n",
                    outputsPerEvent, events, total, events / total);
            return events / total;
        }
    }

    /** Waits until the group committed every offset of {@code topic} (under exactly-once: the last transaction). */
    private static void awaitCommitted(String bootstrap, String groupId, String topic, BooleanSupplier failed) throws Exception {
        awaitCommitted(bootstrap, groupId, topic, failed, done -> { });
    }

    /** As above, telling {@code progress} the committed count at every look. */
    private static void awaitCommitted(String bootstrap, String groupId, String topic, BooleanSupplier failed,
            LongConsumer progress) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Set<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get()
                    .get(topic).partitions().stream()
                    .map(p -> new TopicPartition(topic, p.partition())).collect(Collectors.toSet());
            long end = admin.listOffsets(partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                    .all().get().values().stream().mapToLong(i -> i.offset()).sum();
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                long done = committed.entrySet().stream()
                        .filter(e -> partitions.contains(e.getKey()) && e.getValue() != null)
                        .mapToLong(e -> e.getValue().offset()).sum();
                progress.accept(done);
                if (done >= end) {
                    return;
                }
                if (failed.getAsBoolean()) {
                    throw new IllegalStateException(groupId + " failed");
                }
                TimeUnit.MILLISECONDS.sleep(100); // a command, not a test: poll the committed offsets
            }
        }
    }
}
