package dev.metering.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.plan.CatalogParser;
import dev.metering.app.demo.TrafficGenerator;
import dev.metering.avro.UsageEvent;
import dev.metering.events.UsageEvents;
import dev.metering.events.UsageMeter;
import dev.metering.events.UsageMeterConfig;
import dev.metering.events.config.ConfigSource;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmarks the pipeline against our users' current design on THIS machine, on fresh local "
                + "infrastructure (free ports, a temporary directory), and prints a table:",
            "(a) raw Kafka consume rate of the loaded events topic; (b) end-to-end throughput, produce to committed in "
                + "PostgreSQL; (c) freshness p50/p99, produced to visible through the check endpoint, at half of (b); "
                + "(d) per-event UPDATE ... SET count = count + 1 WHERE org = ? AND count < limit on the same PostgreSQL, "
                + "one hot org and 10,000 orgs, best of several connection counts; and the ratios."})
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--events", defaultValue = "100000", description = "events for (a) and (b) (default: ${DEFAULT-VALUE})")
    int events;

    @Option(names = "--warmup", defaultValue = "20000",
            description = "events sent through the whole pipeline before (b) is timed, so that (b) measures warm code, "
                    + "not the JIT compiling it (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--probes", defaultValue = "100", description = "freshness samples for (c) (default: ${DEFAULT-VALUE})")
    int probes;

    @Option(names = "--update-seconds", defaultValue = "5", description = "duration of each (d) run (default: ${DEFAULT-VALUE})")
    int updateSeconds;

    @Option(names = "--connections", split = ",", defaultValue = "1,4,16,64",
            description = "connection counts tried for (d) (default: ${DEFAULT-VALUE})")
    int[] connections;

    private final PrintStream out = System.out;
    private double loadAtStart;
    private dev.metering.streams.StreamsAppConfig streamsConfig;

    @Override
    public Integer call() throws Exception {
        // world-passable: PostgreSQL runs as an unprivileged user when this JVM runs as root
        loadAtStart = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        Path dir = Files.createTempDirectory("metering-bench-", java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.createDirectories(dir.resolve("logs"));
        Logging.addFileLog(dir.resolve("logs").resolve("metering.log"));
        String token = "bench-admin-token-0123456789";
        out.println("bench: starting local infrastructure and the pipeline in " + dir);
        // METERING_* from the environment apply (e.g. METERING_STREAMS_COMMIT_INTERVAL), as in dev mode
        Map<String, String> extra = new TreeMap<>();
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("METERING_") && !k.equals("METERING_ADMIN_TOKEN")) {
                extra.put(k, v);
            }
        });
        extra.putIfAbsent("METERING_MAX_STALENESS", "1d");
        try (DevStack stack = DevStack.start(new DevStack.Settings(dir, 0, 0, 0, 0, token, 4, extra),
                line -> out.println("  " + line))) {
            stack.applyPrices(DevCommand.resource("examples/model-prices.csv"), "examples/model-prices.csv");
            stack.api().service().putCatalog(DevCommand.resource("examples/000-chat-rate-limiting.yaml"),
                    CatalogParser.Format.YAML, "bench");
            Map<String, String> env = stack.env();
            streamsConfig = dev.metering.streams.StreamsAppConfig.load(ConfigSource.of(env));
            Results r = new Results();
            try (UsageMeter meter = UsageMeter.create(UsageMeterConfig.fromSource(ConfigSource.of(env), Clock.systemUTC()))) {
                meter.record(UsageEvents.builder(Clock.systemUTC()).org("bench-warmup").feature("CHAT_MESSAGE").build())
                        .toCompletableFuture().get();
                awaitDbEvents(stack, 1, Duration.ofMinutes(2));
                if (warmup > 0) {
                    out.printf("warm-up: %,d events through the pipeline (not timed) ...%n", warmup);
                    double rate = endToEnd(stack, meter, warmup, 17);
                    out.printf("    warm-up ran at %,.0f events/s%n", rate);
                }
                r.pipeline = endToEnd(stack, meter, events, 3);
                r.consume = rawConsume(stack);
                r.freshnessRate = r.pipeline / 2;
                r.freshness = freshness(stack, meter, token, r.freshnessRate);
            }
            r.hot = users(stack, 1);
            r.spread = users(stack, 10_000);
            print(r);
        } finally {
            deleteQuietly(dir);
        }
        return 0;
    }

    static final class Results {
        double consume;
        double pipeline;
        double freshnessRate;
        long[] freshness;
        double[] hot;
        double[] spread;
    }

    /** (b): produce {@code events} events as fast as the meter allows; time until all are committed in PostgreSQL. */
    private double endToEnd(DevStack stack, UsageMeter meter, int events, long seed) throws Exception {
        long before = dbEvents(stack);
        TrafficGenerator generator = new TrafficGenerator(seed, Clock.systemUTC());
        List<UsageEvent> batch = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            int org = benchOrg(i);
            batch.add(generator.next(TrafficGenerator.org(org), 1 + org % 6));
        }
        out.printf("producing %,d events and waiting until PostgreSQL holds them ...%n", events);
        long start = System.nanoTime();
        for (UsageEvent e : batch) {
            meter.record(e);
        }
        meter.flush();
        double produced = (System.nanoTime() - start) / 1e9;
        awaitDbEvents(stack, before + events, Duration.ofMinutes(10));
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf("    produced in %.1f s, all committed in PostgreSQL after %.1f s%n", produced, seconds);
        return events / seconds;
    }

    /** The org (1..1000) of (b)'s {@code i}-th event: a fixed stride that visits all orgs evenly. */
    static int benchOrg(int i) {
        return 1 + (int) ((long) i * 7919 % 1000); // long: i * 7919 overflows an int from i = 271,189 on
    }

    /** (a): a plain byte-array consumer reads the loaded events topic from the beginning. */
    private double rawConsume(DevStack stack) {
        String topic = stack.topics().events();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers",
                stack.kafka().bootstrapServers(), "group.id", "bench-raw-" + System.nanoTime(), "enable.auto.commit", false,
                "auto.offset.reset", "earliest", "max.poll.records", 5000, "fetch.min.bytes", 1),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long total = consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
            long read = 0;
            long start = System.nanoTime();
            while (read < total) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
                read += records.count();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            out.printf("(a) read %,d records in %.2f s%n", read, seconds);
            return read / seconds;
        }
    }

    /**
     * (c): background load at {@code rate} events/s over 1,000 orgs; meanwhile one probe event at a
     * time for a probe org, timed from the broker's acknowledgement until the check endpoint counts it.
     */
    private long[] freshness(DevStack stack, UsageMeter meter, String token, double rate) throws Exception {
        out.printf("(c) %d probes under %,.0f events/s of background load ...%n", probes, rate);
        AtomicBoolean stop = new AtomicBoolean();
        TrafficGenerator generator = new TrafficGenerator(5, Clock.systemUTC());
        Thread load = new Thread(() -> {
            long start = System.nanoTime();
            long sent = 0;
            while (!stop.get()) {
                long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
                while (sent < due) {
                    int org = 1 + (int) (sent * 7919 % 1000);
                    meter.record(generator.next(TrafficGenerator.org(org), 1 + org % 6));
                    sent++;
                }
                LockSupport.parkNanos(1_000_000);
            }
        }, "bench-load");
        load.setDaemon(true);
        load.start();
        HttpClient http = HttpClient.newHttpClient();
        ObjectMapper json = new ObjectMapper();
        String probeOrg = "bench-probe-" + System.nanoTime();
        URI check = URI.create("http://127.0.0.1:" + stack.api().port() + "/api/v1/usage/" + probeOrg + "/check/CHAT_MESSAGE");
        long[] latencies = new long[probes];
        try {
            Thread.sleep(3000); // let the background load reach its rate before the first probe
            for (int i = 0; i < probes; i++) {
                UsageEvent probe = UsageEvents.builder(Clock.systemUTC()).org(probeOrg).feature("CHAT_MESSAGE")
                        .user("probe").at(Instant.now()).build();
                meter.record(probe).toCompletableFuture().get();
                long acked = System.nanoTime();
                long expected = i + 1;
                while (true) {
                    HttpResponse<String> resp = http.send(HttpRequest.newBuilder(check)
                            .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
                    if (used(json.readTree(resp.body()), "daily-messages") >= expected) {
                        break;
                    }
                    if (System.nanoTime() - acked > 60_000_000_000L) {
                        throw new IllegalStateException("probe " + i + " not visible after 60 s");
                    }
                    LockSupport.parkNanos(5_000_000);
                }
                latencies[i] = (System.nanoTime() - acked) / 1_000_000;
            }
        } finally {
            stop.set(true);
            load.join(5000);
        }
        Arrays.sort(latencies);
        return latencies;
    }

    private static long used(JsonNode check, String limitId) {
        for (JsonNode l : check.path("limits")) {
            if (limitId.equals(l.path("id").asText())) {
                return l.path("used").asLong();
            }
        }
        return -1;
    }

    /**
     * (d): our users' current design on the same PostgreSQL: one autocommitted
     * {@code UPDATE ... SET count = count + 1 WHERE org = ? AND count < limit} per event; returns
     * {best updates/s, its connection count}.
     */
    private double[] users(DevStack stack, int orgs) throws Exception {
        String url = stack.postgres().jdbcUrl();
        String user = stack.postgres().user();
        String password = stack.postgres().password();
        try (Connection c = DriverManager.getConnection(url, user, password); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS bench_org_usage");
            st.execute("CREATE TABLE bench_org_usage (org_id text PRIMARY KEY, message_count bigint NOT NULL, "
                    + "message_limit bigint NOT NULL)");
            st.execute("INSERT INTO bench_org_usage SELECT 'org-' || g, 0, 9000000000000 FROM generate_series(1, " + orgs + ") g");
        }
        double best = 0;
        int bestConnections = 0;
        for (int n : connections) {
            LongAdder done = new LongAdder();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            List<Connection> open = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                Connection c = DriverManager.getConnection(url, user, password);
                open.add(c);
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE bench_org_usage SET message_count = message_count + 1 WHERE org_id = ? AND message_count < message_limit");
                threads.add(new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            ps.setString(1, "org-" + (orgs == 1 ? 1 : 1 + ThreadLocalRandom.current().nextInt(orgs)));
                            if (ps.executeUpdate() == 1) {
                                done.increment();
                            }
                        }
                    } catch (Exception e) {
                        if (!stop.get()) {
                            throw new IllegalStateException(e);
                        }
                    }
                }, "bench-update-" + t));
            }
            long start = System.nanoTime();
            threads.forEach(Thread::start);
            Thread.sleep(updateSeconds * 1000L);
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
            }
            double rate = done.sum() / ((System.nanoTime() - start) / 1e9);
            for (Connection c : open) {
                c.close();
            }
            out.printf("(d) %s, %d connection(s): %,.0f updates/s%n", orgs == 1 ? "hot org" : orgs + " orgs", n, rate);
            if (rate > best) {
                best = rate;
                bestConnections = n;
            }
        }
        return new double[] {best, bestConnections};
    }

    private void print(Results r) {
        var os = ManagementFactory.getOperatingSystemMXBean();
        long memGb = Math.round(((com.sun.management.OperatingSystemMXBean) os).getTotalMemorySize() / (1024.0 * 1024 * 1024));
        out.println();
        out.printf("metering bench, %s: %d cores, %d GiB, %s %s, Java %s; Kafka 4.3.1 (1 broker), PostgreSQL 17 (durable), "
                + "4 partitions, %s, commit interval %s; %,d warm-up events before (b); everything in one machine; "
                + "load average %.1f at start, %.1f at end%n",
                Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                Runtime.getRuntime().availableProcessors(), memGb, os.getName(), os.getArch(), System.getProperty("java.version"),
                streamsConfig.guarantee().value(), streamsConfig.commitInterval().toMillis() + " ms", warmup, loadAtStart,
                os.getSystemLoadAverage());
        out.println();
        out.println("| measurement | result |");
        out.println("|---|---|");
        out.printf("| (a) raw Kafka consume of the loaded events topic | %,.0f records/s |%n", r.consume);
        out.printf("| (b) pipeline end to end, produce -> committed in PostgreSQL (%,d events) | %,.0f events/s |%n", events,
                r.pipeline);
        out.printf("| (c) freshness at %,.0f events/s, produced -> visible via check: p50 / p99 / max (%d probes) | %d / %d / %d ms |%n",
                r.freshnessRate, probes, r.freshness[r.freshness.length / 2], r.freshness[(int) Math.ceil(r.freshness.length * 0.99) - 1],
                r.freshness[r.freshness.length - 1]);
        out.printf("| (d) per-event UPDATE, one hot org (best of %s connections: %d) | %,.0f events/s |%n",
                Arrays.toString(connections), (int) r.hot[1], r.hot[0]);
        out.printf("| (d) per-event UPDATE, 10,000 orgs (best: %d connections) | %,.0f events/s |%n", (int) r.spread[1], r.spread[0]);
        out.printf("| ratio (b) / (d) hot org | %.1f x |%n", r.pipeline / r.hot[0]);
        out.printf("| ratio (b) / (d) 10,000 orgs | %.1f x |%n", r.pipeline / r.spread[0]);
    }

    private void awaitDbEvents(DevStack stack, long atLeast, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long last = -1;
        long nextReport = System.nanoTime() + 5_000_000_000L;
        // one connection for the whole wait: a new one per poll made PostgreSQL fork a backend
        // 50 times a second, CPU taken from the pipeline being measured
        try (Connection c = connect(stack)) {
            while (true) {
                long n = dbEvents(c);
                if (n >= atLeast) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + n + " of " + atLeast + " events in PostgreSQL after " + timeout);
                }
                if (System.nanoTime() > nextReport && n != last) {
                    out.printf("    %,d / %,d events in PostgreSQL (streams read %,.0f events; sink read %,.0f aggregate records, "
                            + "upserted %,.0f rows)%n", n, atLeast,
                            dev.metering.app.demo.DemoSummary.counter(stack.streams().metrics().registry(), "metering_streams_events_in"),
                            dev.metering.app.demo.DemoSummary.counter(stack.sink().metricsRegistry(), "metering_sink_records"),
                            dev.metering.app.demo.DemoSummary.counter(stack.sink().metricsRegistry(), "metering_sink_rows_upserted"));
                    last = n;
                    nextReport = System.nanoTime() + 5_000_000_000L;
                }
                LockSupport.parkNanos(50_000_000);
            }
        }
    }

    private static long dbEvents(DevStack stack) throws Exception {
        try (Connection c = connect(stack)) {
            return dbEvents(c);
        }
    }

    private static Connection connect(DevStack stack) throws Exception {
        return DriverManager.getConnection(stack.postgres().jdbcUrl(), stack.postgres().user(), stack.postgres().password());
    }

    private static long dbEvents(Connection c) throws Exception {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(SUM(events), 0) FROM metering.org_usage_daily")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (Exception e) {
            // temporary directory; the OS cleans it eventually
        }
    }
}
