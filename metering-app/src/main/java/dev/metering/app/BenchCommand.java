package dev.metering.app;

import dev.metering.api.audit.Actor;
import dev.metering.api.plan.CatalogParser;
import dev.metering.events.UsageEvents;
import dev.metering.events.UsageMeter;
import dev.metering.events.UsageMeterConfig;
import dev.metering.events.config.ConfigSource;
import dev.metering.streams.StreamsAppConfig;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.common.utils.AppInfoParser;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmarks the pipeline against our users' current designs on THIS machine, on fresh local "
                + "infrastructure (free ports, a temporary directory), and prints a table of the results.",
            "Rows: (a) raw Kafka consume rate of the loaded events topic; (b) burst: end-to-end throughput of a burst, produce to "
                + "committed in PostgreSQL; (b) sustained: the highest offered rate held with the lag bounded; (c) freshness "
                + "p50/p99, produced to visible through the check endpoint, at half of (b) burst; (d1) per-event UPDATE ... "
                + "SET count = count + 1 WHERE org = ? AND count < limit and (d2) the seeds' per-message transaction (SELECT "
                + "... FOR UPDATE, limits checked, INSERT a usage record, UPDATE the counters, COMMIT) on the same PostgreSQL, "
                + "one hot org and 10,000 orgs, best of several connection counts; then (b) again on a second fresh stack with "
                + "METERING_EVENT_LOG=on; and the ratios.",
            "The default run takes 10 to 12 minutes; --hold, --events and --update-seconds make it longer and steadier. "
                + "Method of each row: docs/benchmarks.md."})
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--events", defaultValue = "100000", description = "events of (b) burst (default: ${DEFAULT-VALUE})")
    int events;

    @Option(names = "--warmup", defaultValue = "20000",
            description = "events sent through the whole pipeline before (b) is timed, so that (b) measures warm code, "
                    + "not the JIT compiling it (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--hold", defaultValue = "15",
            description = "seconds each rate of (b) sustained is held and judged, after --step-warmup (default: ${DEFAULT-VALUE})")
    double hold;

    @Option(names = "--step-warmup", defaultValue = "5",
            description = "seconds each rate of (b) sustained runs before its hold starts (default: ${DEFAULT-VALUE})")
    double stepWarmup;

    @Option(names = "--sustained-warmup", defaultValue = "60",
            description = "seconds of load at (b) sustained's first rate before its first step, not judged, so that the "
                    + "steps measure warm code, not the JIT compiling the pipeline at such rates (default: ${DEFAULT-VALUE})")
    double sustainedWarmup;

    @Option(names = "--max-lag", defaultValue = "2",
            description = "(b) sustained: the most lag (events sent, not yet visible in PostgreSQL) allowed at the end of the hold, "
                    + "in seconds of traffic at the offered rate (default: ${DEFAULT-VALUE})")
    double maxLag;

    @Option(names = "--max-lag-growth", defaultValue = "0.5",
            description = "(b) sustained: the most the lag may grow from the middle to the end of the hold, in seconds of "
                    + "traffic (default: ${DEFAULT-VALUE})")
    double maxLagGrowth;

    @Option(names = "--ramp", defaultValue = "0.7,1.2,1", converter = Ramp.Converter.class,
            description = "(b) sustained: first rate as a fraction of (b) burst, factor between rates, bisections between the "
                    + "last sustained and the first failed rate (default: ${DEFAULT-VALUE})")
    Ramp ramp;

    /** {@code --ramp FRACTION,FACTOR,BISECTIONS}. */
    record Ramp(double firstFraction, double factor, int bisections) {

        static final class Converter implements CommandLine.ITypeConverter<Ramp> {
            @Override
            public Ramp convert(String value) {
                String[] parts = value.split(",", -1);
                try {
                    if (parts.length == 3) {
                        Ramp r = new Ramp(Double.parseDouble(parts[0].strip()), Double.parseDouble(parts[1].strip()),
                                Integer.parseInt(parts[2].strip()));
                        if (r.firstFraction() > 0 && r.factor() > 1 && r.bisections() >= 0) {
                            return r;
                        }
                    }
                } catch (NumberFormatException e) {
                    // reported below
                }
                throw new CommandLine.TypeConversionException("--ramp needs FRACTION,FACTOR,BISECTIONS with FRACTION > 0, "
                        + "FACTOR > 1, BISECTIONS >= 0, got '" + value + "'");
            }
        }
    }

    @Option(names = "--max-steps", defaultValue = "8", description = "(b) sustained: most rates tried (default: ${DEFAULT-VALUE})")
    int maxSteps;

    @Option(names = "--probes", defaultValue = "100", description = "freshness samples for (c) (default: ${DEFAULT-VALUE})")
    int probes;

    @Option(names = "--freshness-warmup", defaultValue = "60",
            description = "seconds of (c)'s load and untimed probes before its timed ones, so that (c) measures warm "
                    + "code, not the JIT compiling the check endpoint and the pipeline at this rate (default: ${DEFAULT-VALUE})")
    int freshnessWarmup;

    @Option(names = "--update-seconds", defaultValue = "5",
            description = "duration of each (d1) and (d2) run (default: ${DEFAULT-VALUE})")
    int updateSeconds;

    @Option(names = "--connections", split = ",", defaultValue = "1,4,16,64",
            description = "connection counts tried for (d1) and (d2) (default: ${DEFAULT-VALUE})")
    int[] connections;

    @Option(names = "--skip-sustained", description = "skip (b) sustained")
    boolean skipSustained;

    @Option(names = "--skip-event-log", description = "skip the second stack with METERING_EVENT_LOG=on")
    boolean skipEventLog;

    private final PrintStream out = System.out;
    private StreamsAppConfig streamsConfig;

    /** What one stack measured; the event-log stack measures (b) only. */
    static final class Results {
        double consume;
        double burst;
        BenchSteadyState.Result sustained;
        double freshnessRate;
        BenchPipeline.Freshness freshness;
        BenchBaselines.Best d1Hot;
        BenchBaselines.Best d1Spread;
        BenchBaselines.Best d2Hot;
        BenchBaselines.Best d2Spread;
        /** Rows in metering.usage_events after the run; -1: the table does not exist in this build. */
        long eventLogRows = -1;
    }

    @Override
    public Integer call() throws Exception {
        FullJar.require("bench");
        if (probes < 1 || freshnessWarmup < 0 || sustainedWarmup < 0) {
            throw new UserException("--probes must be at least 1, --freshness-warmup and --sustained-warmup at least 0", 2, null);
        }
        double loadAtStart = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        long began = System.nanoTime();
        // world-passable: PostgreSQL runs as an unprivileged user when this JVM runs as root
        Path root = Files.createTempDirectory("metering-bench-", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.createDirectories(root.resolve("logs"));
        Logging.addFileLog(root.resolve("logs").resolve("metering.log"));
        if (System.getenv("METERING_EVENT_LOG") != null) {
            out.println("bench: METERING_EVENT_LOG from the environment is ignored: the main rows run with it off, the "
                    + "event-log rows with it on");
        }
        try {
            Results off = new Results();
            runStack(root, false, off);
            Results on = null;
            if (!skipEventLog) {
                on = new Results();
                runStack(root, true, on);
            }
            print(off, on, loadAtStart, (System.nanoTime() - began) / 1e9);
        } finally {
            deleteQuietly(root);
        }
        return 0;
    }

    /** One fresh stack: warm-up, (b) burst and sustained; without the event log also (a), (c), (d1) and (d2). */
    private void runStack(Path root, boolean eventLog, Results r) throws Exception {
        Path dir = Files.createDirectory(root.resolve(eventLog ? "event-log-on" : "event-log-off"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        String token = "bench-admin-token-0123456789";
        out.printf("bench: starting local infrastructure and the pipeline (METERING_EVENT_LOG=%s) in %s%n",
                eventLog ? "on" : "off", dir);
        // METERING_* from the environment apply (e.g. METERING_STREAMS_COMMIT_INTERVAL), as in dev mode
        Map<String, String> extra = new TreeMap<>();
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("METERING_") && !k.equals("METERING_ADMIN_TOKEN")) {
                extra.put(k, v);
            }
        });
        extra.putIfAbsent("METERING_MAX_STALENESS", "1d");
        extra.put("METERING_EVENT_LOG", eventLog ? "on" : "off");
        try (DevStack stack = DevStack.start(new DevStack.Settings(dir, 0, 0, 0, 0, token, 4, extra),
                line -> out.println("  " + line))) {
            stack.applyPrices(DevCommand.resource("examples/model-prices.csv"), "examples/model-prices.csv");
            stack.api().service().putCatalog(DevCommand.resource("examples/000-chat-rate-limiting.yaml"),
                    CatalogParser.Format.YAML, Actor.tool("bench", java.time.Instant.now()));
            Map<String, String> env = stack.env();
            if (!extra.get("METERING_EVENT_LOG").equals(env.get("METERING_EVENT_LOG"))) {
                out.printf("bench: WARNING the pipeline runs with METERING_EVENT_LOG=%s, not %s as asked%n",
                        env.get("METERING_EVENT_LOG"), extra.get("METERING_EVENT_LOG"));
            }
            streamsConfig = StreamsAppConfig.from(ConfigSource.of(env));
            try (UsageMeter meter = UsageMeter.create(UsageMeterConfig.from(ConfigSource.of(env), Clock.systemUTC()))) {
                BenchPipeline pipeline = new BenchPipeline(stack, meter, out, eventLog);
                meter.record(UsageEvents.builder(Clock.systemUTC()).org("bench-warmup").feature("CHAT_MESSAGE").build())
                        .toCompletableFuture().get();
                pipeline.awaitVisible(1, 1, Duration.ofMinutes(2));
                if (warmup > 0) {
                    out.printf("warm-up: %,d events through the pipeline (not timed) ...%n", warmup);
                    double rate = pipeline.burst(warmup, 17);
                    out.printf("    warm-up ran at %,.0f events/s%n", rate);
                }
                r.burst = pipeline.burst(events, 3);
                if (!skipSustained) {
                    BenchSteadyState steady = new BenchSteadyState(pipeline, new BenchSteadyState.Settings(stepWarmup, hold,
                            maxLag, maxLagGrowth, ramp.firstFraction(), ramp.factor(), ramp.bisections(), maxSteps), out);
                    steady.warm(BenchSteadyState.roundRate(r.burst * ramp.firstFraction()), sustainedWarmup);
                    r.sustained = steady.ramp(r.burst);
                }
                if (eventLog) {
                    try (Connection c = pipeline.connect()) {
                        r.eventLogRows = BenchPipeline.eventLogTableExists(c) ? countEventLog(c) : -1;
                    }
                    return;
                }
                r.consume = pipeline.rawConsume();
                r.freshnessRate = r.burst / 2;
                r.freshness = pipeline.freshness(token, r.freshnessRate, probes, Duration.ofSeconds(freshnessWarmup));
            }
            BenchBaselines baselines = new BenchBaselines(stack, updateSeconds, connections, out);
            r.d1Hot = baselines.singleUpdate(1);
            r.d1Spread = baselines.singleUpdate(10_000);
            r.d2Hot = baselines.perMessageTransaction(1);
            r.d2Spread = baselines.perMessageTransaction(10_000);
            baselines.dropSchema();
        }
    }

    private static long countEventLog(Connection c) throws Exception {
        try (var st = c.createStatement(); var rs = st.executeQuery("SELECT count(*) FROM metering.usage_events")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void print(Results off, Results on, double loadAtStart, double seconds) {
        var os = ManagementFactory.getOperatingSystemMXBean();
        long memGb = Math.round(((com.sun.management.OperatingSystemMXBean) os).getTotalMemorySize() / (1024.0 * 1024 * 1024));
        out.println();
        out.printf("metering bench, %s: %d cores, %d GiB, %s %s, Java %s; Kafka %s (1 broker), PostgreSQL 17 (durable), "
                + "4 partitions, %s, commit interval %s; %,d warm-up events before (b); everything in one machine; "
                + "load average %.1f at start, %.1f at end; %.0f s in all%n",
                Instant.now().truncatedTo(ChronoUnit.SECONDS),
                Runtime.getRuntime().availableProcessors(), memGb, os.getName(), os.getArch(), System.getProperty("java.version"),
                AppInfoParser.getVersion(), streamsConfig.guarantee().value(), streamsConfig.commitInterval().toMillis() + " ms", warmup, loadAtStart,
                os.getSystemLoadAverage(), seconds);
        out.println();
        out.println("| measurement | result |");
        out.println("|---|---|");
        out.printf("| (a) raw Kafka consume of the loaded events topic | %,.0f records/s |%n", off.consume);
        out.printf("| (b) burst: pipeline end to end, produce -> committed in PostgreSQL (%,d events) | %,.0f events/s |%n", events,
                off.burst);
        String held = String.format("held %.0f s after %.0f s warm-up%s, lag at the end <= %.1f s of traffic and grown <= %.1f s "
                + "over the second half", hold, stepWarmup,
                sustainedWarmup > 0 ? String.format(" (the first after %.0f s more)", sustainedWarmup) : "", maxLag, maxLagGrowth);
        if (off.sustained != null) {
            out.printf("| (b) sustained: highest offered rate %s | %s |%n", held, sustained(off.sustained));
        }
        if (on != null) {
            out.printf("| (b) burst, event log on (METERING_EVENT_LOG=on, second fresh stack) | %,.0f events/s |%n", on.burst);
            if (on.sustained != null) {
                out.printf("| (b) sustained, event log on | %s |%n", sustained(on.sustained));
            }
        }
        out.printf("| (c) freshness at %,.0f events/s, produced -> visible via check: p50 / p99 / max (%d probes, after %d s "
                        + "of the load untimed) | %d / %d / %d ms |%n",
                off.freshnessRate, probes, freshnessWarmup, off.freshness.p50Millis(), off.freshness.p99Millis(), off.freshness.maxMillis());
        out.printf("| (d1) per-event UPDATE, one hot org (best of %s connections: %d) | %,.0f events/s |%n",
                Arrays.toString(connections), off.d1Hot.connections(), off.d1Hot.rate());
        out.printf("| (d1) per-event UPDATE, 10,000 orgs (best: %d connection(s)) | %,.0f events/s |%n", off.d1Spread.connections(),
                off.d1Spread.rate());
        out.printf("| (d2) per-message transaction (SELECT ... FOR UPDATE, check, INSERT usage record, UPDATE counters, COMMIT), "
                + "one hot org (best: %d connection(s)) | %,.0f events/s |%n", off.d2Hot.connections(), off.d2Hot.rate());
        out.printf("| (d2) per-message transaction, 10,000 orgs (best: %d connection(s)) | %,.0f events/s |%n",
                off.d2Spread.connections(), off.d2Spread.rate());
        if (off.sustained != null) {
            double s = off.sustained.sustained();
            out.printf("| ratio (b) sustained / (d1) 10,000 orgs (target >= 1.0) | %.2f x |%n", s / off.d1Spread.rate());
            out.printf("| ratio (b) sustained / (d1) hot org (target >= 4) | %.2f x |%n", s / off.d1Hot.rate());
            out.printf("| ratio (b) sustained / (d2) 10,000 orgs (target >= 3) | %.2f x |%n", s / off.d2Spread.rate());
            out.printf("| ratio (b) sustained / (d2) hot org | %.2f x |%n", s / off.d2Hot.rate());
        }
        out.printf("| ratio (b) burst / (d1) 10,000 orgs | %.2f x |%n", off.burst / off.d1Spread.rate());
        out.printf("| ratio (b) burst / (d1) hot org | %.2f x |%n", off.burst / off.d1Hot.rate());
        if (on != null) {
            if (off.sustained != null && on.sustained != null) {
                out.printf("| ratio (b) sustained, event log on / off (target >= 0.75) | %.2f x |%n",
                        on.sustained.sustained() / off.sustained.sustained());
            }
            out.printf("| ratio (b) burst, event log on / off | %.2f x |%n", on.burst / off.burst);
        }
        if (on != null && on.eventLogRows <= 0) {
            out.printf("%nnote: METERING_EVENT_LOG=on had no effect in this build (%s): the event-log rows measure the same "
                    + "pipeline again.%n", on.eventLogRows < 0 ? "there is no metering.usage_events table"
                    : "metering.usage_events stayed empty");
        }
        printSteps("event log off", off.sustained);
        printSteps("event log on", on == null ? null : on.sustained);
    }

    private static String sustained(BenchSteadyState.Result r) {
        if (r.sustained() == 0) {
            return "none of the rates tried";
        }
        if (r.producerBound()) {
            return String.format(">= %,.0f events/s (the bench's producer could offer no more)", r.sustained());
        }
        if (!r.ceilingFound()) {
            return String.format(">= %,.0f events/s (every rate tried was sustained: raise --max-steps)", r.sustained());
        }
        return String.format("%,.0f events/s", r.sustained());
    }

    private void printSteps(String label, BenchSteadyState.Result r) {
        if (r == null) {
            return;
        }
        out.println();
        out.printf("(b) sustained, %s: every step%n%n", label);
        out.println("| offered | sent | streams read | written to PostgreSQL | lag middle | lag end | |");
        out.println("|---|---|---|---|---|---|---|");
        for (BenchSteadyState.Step s : r.steps()) {
            out.printf("| %,.0f/s | %,.0f/s | %,.0f/s | %,.0f/s | %.2f s | %.2f s | %s |%n", s.rate(), s.sentRate(), s.readRate(),
                    s.writtenRate(), s.midLag(), s.endLag(), !s.offered() ? "not offered" : s.sustained() ? "sustained" : "not sustained");
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
