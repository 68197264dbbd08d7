package dev.metering.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.app.demo.DemoSummary;
import dev.metering.app.demo.TrafficGenerator;
import dev.metering.avro.UsageEvent;
import dev.metering.events.UsageEvents;
import dev.metering.events.UsageMeter;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The bench's measurements through one running pipeline ({@link DevStack}): (a) raw consume,
 * (b) burst, (c) freshness, and what PostgreSQL shows of the events sent. An event counts as
 * visible when {@code metering.org_usage_daily} holds it and, with the event log on, when
 * {@code metering.usage_events} holds it too.
 */
final class BenchPipeline {

    private final DevStack stack;
    private final CpuSampler cpu;
    private final UsageMeter meter;
    private final PrintStream out;
    /** Also wait for {@code metering.usage_events}: the event log is on and the table exists in this build. */
    private final boolean eventLogTable;

    BenchPipeline(DevStack stack, UsageMeter meter, PrintStream out, boolean eventLogOn) throws SQLException {
        this.stack = stack;
        this.cpu = new CpuSampler(stack.streamsApplicationId() == null ? "metering-streams" : stack.streamsApplicationId(),
                this::postgresRoles);
        this.meter = meter;
        this.out = out;
        try (Connection c = connect()) {
            this.eventLogTable = eventLogOn && eventLogTableExists(c);
        }
    }

    UsageMeter meter() {
        return meter;
    }

    boolean tracksEventLog() {
        return eventLogTable;
    }

    /** Events the streams service has read so far (its own counter). */
    double streamsRead() {
        return DemoSummary.counter(stack.streams().metrics().registry(), "metering_streams_events_in");
    }

    /** (b) burst: produce {@code events} events as fast as the meter allows; time until all are visible in PostgreSQL. */
    double burst(int events, long seed) throws Exception {
        long orgEventsBefore;
        long eventLogRowsBefore;
        try (Connection c = connect()) {
            orgEventsBefore = orgEvents(c);
            eventLogRowsBefore = eventLogRows(c);
        }
        TrafficGenerator generator = new TrafficGenerator(seed, Clock.systemUTC());
        List<UsageEvent> batch = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            int org = benchOrg(i);
            batch.add(generator.next(TrafficGenerator.org(org), 1 + org % 6));
        }
        out.printf("producing %,d events and waiting until PostgreSQL holds them ...%n", events);
        Map<String, Long> cpuBefore = cpu.sample();
        long start = System.nanoTime();
        for (UsageEvent e : batch) {
            meter.record(e);
        }
        meter.flush();
        double produced = (System.nanoTime() - start) / 1e9;
        awaitVisible(orgEventsBefore + events, eventLogRowsBefore + events, Duration.ofMinutes(10));
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf("    produced in %.1f s, all committed in PostgreSQL after %.1f s%n", produced, seconds);
        out.printf("    CPU an event: %s%n", CpuSampler.perEvent(cpuBefore, cpu.sample(), events, seconds));
        return events / seconds;
    }

    /** The org (1..1000) of the {@code i}-th event of (b): a fixed stride that visits all orgs evenly. */
    static int benchOrg(long i) {
        return 1 + (int) (i * 7919 % 1000); // long: i * 7919 overflows an int from i = 271,189 on
    }

    /** The CPU used so far by this JVM and the processes it started, by part: for {@link CpuSampler#perEvent}. */
    Map<String, Long> cpuSample() {
        return cpu.sample();
    }

    /** (a): a plain byte-array consumer reads the loaded events topic from the beginning. */
    double rawConsume() {
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
    Freshness freshness(String token, double rate, int probes, Duration warmup) throws Exception {
        out.printf("(c) %d probes under %,.0f events/s of background load, after %d s of it untimed ...%n", probes,
                rate, warmup.toSeconds());
        AtomicBoolean stop = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong loadSent = new java.util.concurrent.atomic.AtomicLong();
        TrafficGenerator generator = new TrafficGenerator(5, Clock.systemUTC());
        Thread load = new Thread(() -> {
            long start = System.nanoTime();
            long sent = 0;
            while (!stop.get()) {
                long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
                while (sent < due) {
                    int org = benchOrg(sent);
                    meter.record(generator.next(TrafficGenerator.org(org), 1 + org % 6));
                    sent++;
                }
                loadSent.set(sent);
                LockSupport.parkNanos(1_000_000);
            }
        }, "bench-load");
        load.setDaemon(true);
        HttpClient http = HttpClient.newHttpClient();
        ObjectMapper json = new ObjectMapper();
        String probeOrg = "bench-probe-" + System.nanoTime();
        URI check = URI.create(stack.apiUrl() + "/api/v1/usage/" + probeOrg + "/check/CHAT_MESSAGE");
        long[] latencies = new long[probes];
        long[] streamsPart = new long[probes];
        int missed = 0;
        int acrossMidnight = 0;
        AggregatesWatch watch = new AggregatesWatch(probeOrg); // before the load: if it cannot start, nothing runs
        watch.start();
        load.start();
        SinkTotals sinkBefore = null;
        Map<String, Double> upsertBefore = null;
        Map<String, Long> cpuBefore = null;
        long sentBefore = 0;
        long timedFrom = 0;
        try {
            Thread.sleep(3000); // let the background load reach its rate before the first probe
            // untimed probes under the same load first: the probes' path (check endpoint, HTTP client) and
            // the pipeline at this rate are new code for the JIT, which would otherwise compile during (c)
            long warmUntil = System.nanoTime() + warmup.toNanos();
            int timedProbes = 0;
            LocalDate countDay = null;
            long countToday = 0;
            for (int i = 0; timedProbes < probes; i++) {
                boolean timed = System.nanoTime() >= warmUntil;
                if (timed && cpuBefore == null) {
                    sinkBefore = sinkBatches();
                    upsertBefore = upsertSeconds();
                    cpuBefore = cpu.sample();
                    sentBefore = loadSent.get();
                    timedFrom = System.nanoTime();
                }
                Instant at = Instant.now();
                // the probe's own user, so the watch tells its records from an earlier probe's
                String user = "probe-" + i;
                UsageEvent probe = UsageEvents.builder(Clock.systemUTC()).org(probeOrg).feature("CHAT_MESSAGE")
                        .user(user).at(at).build();
                // daily-messages counts the probe's UTC day (the bench's plan has no time zone)
                LocalDate day = LocalDate.ofInstant(at, ZoneOffset.UTC);
                if (!day.equals(countDay)) {
                    countDay = day;
                    countToday = 0;
                }
                long expected = ++countToday;
                watch.expect(user);
                meter.record(probe).toCompletableFuture().get();
                long acked = System.nanoTime();
                boolean dayOver = false;
                while (true) {
                    HttpResponse<String> resp = http.send(HttpRequest.newBuilder(check)
                            .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
                    if (used(json.readTree(resp.body()), "daily-messages") >= expected) {
                        break;
                    }
                    if (!LocalDate.now(ZoneOffset.UTC).equals(day)) {
                        dayOver = true; // the check counts the next day now: this probe cannot be seen there
                        break;
                    }
                    if (System.nanoTime() - acked > 60_000_000_000L) {
                        throw new IllegalStateException("probe " + i + " not visible after 60 s");
                    }
                    LockSupport.parkNanos(5_000_000);
                }
                if (dayOver) {
                    acrossMidnight++;
                    continue;
                }
                if (!timed) {
                    continue;
                }
                long latency = (System.nanoTime() - acked) / 1_000_000;
                long seen = watch.seenAt();
                if (seen == 0) {
                    missed++;
                }
                latencies[timedProbes] = latency;
                streamsPart[timedProbes] = seen == 0 ? latency : Math.min(latency, Math.max(0, (seen - acked) / 1_000_000));
                timedProbes++;
            }
            if (acrossMidnight > 0) {
                out.printf("    %d probe(s) counted in the day that ended before the check showed them were not timed; "
                        + "as many more were sent%n", acrossMidnight);
            }
            out.printf("    CPU an event meanwhile: %s%n", CpuSampler.perEvent(cpuBefore, cpu.sample(),
                    loadSent.get() - sentBefore + probes, (System.nanoTime() - timedFrom) / 1e9));
        } finally {
            stop.set(true);
            watch.close();
            load.join(5000);
        }
        Freshness streams = Freshness.of(streamsPart);
        long[] rest = new long[probes];
        for (int i = 0; i < probes; i++) {
            rest[i] = latencies[i] - streamsPart[i];
        }
        Freshness after = Freshness.of(rest);
        SinkTotals sink = sinkBatches().minus(sinkBefore);
        double batches = sink.batches();
        out.printf("    of which ack -> aggregates committed (streams): p50 / p99 / max %d / %d / %d ms; "
                        + "aggregates committed -> visible via check (sink, PostgreSQL, API): %d / %d / %d ms%s%n",
                streams.p50Millis(), streams.p99Millis(), streams.maxMillis(), after.p50Millis(), after.p99Millis(),
                after.maxMillis(), missed == 0 ? "" : " (the aggregates watch had not seen " + missed
                        + " probe(s) when the check counted them: their whole time is counted as streams)");
        out.printf("    the sink meanwhile: %,.0f batches, %,.0f aggregate records a batch, %.0f ms a batch to decode, write "
                        + "and commit its offsets (mean), of which %.0f ms committing offsets; %,.0f batches took over 0.5 s, "
                        + "%,.0f over 1 s%n", batches,
                batches == 0 ? 0 : sink.records() / batches,
                batches == 0 ? 0 : sink.seconds() / batches * 1000,
                batches == 0 ? 0 : sink.commitSeconds() / batches * 1000, sink.overHalf(), sink.overOne());
        StringBuilder tables = new StringBuilder();
        Map<String, Double> before = upsertBefore;
        upsertSeconds().forEach((table, seconds) -> tables.append(String.format(" %s %.0f ms,", table,
                batches == 0 ? 0 : (seconds - before.getOrDefault(table, 0.0)) / batches * 1000)));
        out.printf("    of a batch's time, in each table's upsert (mean):%s%n",
                tables.length() == 0 ? " none" : tables.substring(0, tables.length() - 1));
        return Freshness.of(latencies);
    }

    /** Seconds the sink spent in each table's upsert so far, by table, from its own metrics. */
    private Map<String, Double> upsertSeconds() {
        Map<String, Double> byTable = new java.util.TreeMap<>();
        for (var snapshot : stack.sink().metricsRegistry().scrape()) {
            if (snapshot instanceof io.prometheus.metrics.model.snapshots.CounterSnapshot c
                    && c.getMetadata().getName().equals("metering_sink_upsert_seconds")) {
                for (var d : c.getDataPoints()) {
                    byTable.merge(d.getLabels().get("table"), d.getValue(), Double::sum);
                }
            }
        }
        return byTable;
    }

    /**
     * The sink's totals so far, from its own metrics: batches, records, seconds writing them, batches
     * over 0.5 s and over 1 s, seconds committing their offsets.
     */
    record SinkTotals(double batches, double records, double seconds, double overHalf, double overOne,
                      double commitSeconds) {
        SinkTotals minus(SinkTotals before) {
            return new SinkTotals(batches - before.batches, records - before.records, seconds - before.seconds,
                    overHalf - before.overHalf, overOne - before.overOne, commitSeconds - before.commitSeconds);
        }
    }

    private SinkTotals sinkBatches() {
        var registry = stack.sink().metricsRegistry();
        double seconds = 0;
        double overHalf = 0;
        double overOne = 0;
        double commits = 0;
        for (var snapshot : registry.scrape()) {
            if (snapshot instanceof io.prometheus.metrics.model.snapshots.HistogramSnapshot h
                    && h.getMetadata().getName().equals("metering_sink_offset_commit_seconds")) {
                for (var d : h.getDataPoints()) {
                    commits += d.getSum();
                }
            }
            if (snapshot instanceof io.prometheus.metrics.model.snapshots.HistogramSnapshot h
                    && h.getMetadata().getName().equals("metering_sink_batch_write_seconds")) {
                for (var d : h.getDataPoints()) {
                    seconds += d.getSum();
                    var buckets = d.getClassicBuckets();
                    for (int i = 0; i < buckets.size(); i++) { // counts per bucket, not cumulative
                        if (buckets.getUpperBound(i) > 0.5) {
                            overHalf += buckets.getCount(i);
                        }
                        if (buckets.getUpperBound(i) > 1) {
                            overOne += buckets.getCount(i);
                        }
                    }
                }
            }
        }
        return new SinkTotals(DemoSummary.counter(registry, "metering_sink_batches"),
                DemoSummary.counter(registry, "metering_sink_records"), seconds, overHalf, overOne, commits);
    }

    /**
     * (c)'s split: a read_committed consumer of the aggregates topic that notes when the record of
     * the probe being timed first appears, i.e. when streams committed it. It matches the probe
     * org and the probe's own user in the record key, as Avro writes them (a length, then UTF-8).
     */
    private final class AggregatesWatch extends Thread implements AutoCloseable {
        private final byte[] org;
        private final KafkaConsumer<byte[], byte[]> consumer;
        private volatile byte[] user = new byte[0];
        private volatile long seenAt;
        private volatile boolean closed;

        AggregatesWatch(String probeOrg) {
            super("bench-aggregates-watch");
            setDaemon(true);
            this.org = probeOrg.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            String topic = stack.topics().aggregates();
            // fetches return as soon as committed records exist: the wait only bounds idle polling
            this.consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", stack.kafka().bootstrapServers(),
                    "group.id", "bench-watch-" + System.nanoTime(), "enable.auto.commit", false,
                    "isolation.level", "read_committed", "fetch.max.wait.ms", 50),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
            try {
                List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToEnd(partitions);
            } catch (RuntimeException e) {
                consumer.close();
                throw e;
            }
        }

        /** The next probe's user: {@link #seenAt()} is 0 until a record of it appears. */
        void expect(String probeUser) {
            byte[] utf8 = probeUser.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] encoded = new byte[utf8.length + 1];
            encoded[0] = (byte) (utf8.length * 2); // Avro's zig-zag length; probe users are shorter than 64 bytes
            System.arraycopy(utf8, 0, encoded, 1, utf8.length);
            user = encoded; // first: a late record of the previous probe must not set the new seenAt
            seenAt = 0;
        }

        /** When the expected probe's first record was read ({@link System#nanoTime()}), or 0. */
        long seenAt() {
            return seenAt;
        }

        @Override
        public void run() {
            try {
                while (!closed) {
                    for (var r : consumer.poll(Duration.ofMillis(50))) {
                        byte[] expected = user;
                        if (seenAt == 0 && r.key() != null && expected.length > 0 && contains(r.key(), org)
                                && contains(r.key(), expected)) {
                            seenAt = System.nanoTime();
                        }
                    }
                }
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                // closing
            } finally {
                consumer.close();
            }
        }

        @Override
        public void close() throws InterruptedException {
            closed = true;
            consumer.wakeup();
            join(5000);
        }

        private static boolean contains(byte[] haystack, byte[] needle) {
            // ISO-8859-1 maps every byte to one char, so this is a byte search
            return new String(haystack, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .contains(new String(needle, java.nio.charset.StandardCharsets.ISO_8859_1));
        }
    }

    /** (c)'s result: produced -> visible through the check endpoint, in milliseconds. */
    record Freshness(long p50Millis, long p99Millis, long maxMillis) {

        static Freshness of(long[] millis) {
            long[] sorted = millis.clone();
            Arrays.sort(sorted);
            return new Freshness(sorted[sorted.length / 2], sorted[(int) Math.ceil(sorted.length * 0.99) - 1],
                    sorted[sorted.length - 1]);
        }
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
     * Waits until PostgreSQL shows at least {@code orgTarget} events in the org totals and, when the
     * event log is tracked, {@code logTarget} rows in {@code usage_events}.
     */
    void awaitVisible(long orgTarget, long logTarget, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long last = -1;
        long nextReport = System.nanoTime() + 5_000_000_000L;
        // one connection for the whole wait: a new one per poll made PostgreSQL fork a backend
        // 50 times a second, CPU taken from the pipeline being measured
        try (Connection c = connect()) {
            while (true) {
                long n = orgEvents(c);
                // the event log is counted only once the totals are complete: count(*) is not free
                if (n >= orgTarget && (!eventLogTable || eventLogRows(c) >= logTarget)) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + n + " of " + orgTarget + " events in PostgreSQL"
                            + (eventLogTable ? " (event log: " + eventLogRows(c) + " of " + logTarget + ")" : "")
                            + " after " + timeout);
                }
                if (System.nanoTime() > nextReport && n != last) {
                    out.printf("    %,d / %,d events in PostgreSQL (streams read %,.0f events; sink read %,.0f aggregate records, "
                            + "upserted %,.0f rows)%n", n, orgTarget, streamsRead(),
                            DemoSummary.counter(stack.sink().metricsRegistry(), "metering_sink_records"),
                            DemoSummary.counter(stack.sink().metricsRegistry(), "metering_sink_rows_upserted"));
                    last = n;
                    nextReport = System.nanoTime() + 5_000_000_000L;
                }
                LockSupport.parkNanos(n >= orgTarget ? 250_000_000 : 50_000_000);
            }
        }
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(stack.postgres().jdbcUrl(), stack.postgres().user(), stack.postgres().password());
    }

    /**
     * PostgreSQL's processes by role, for {@link CpuSampler}: the sink's backends name themselves;
     * a parallel worker works for its leader. Empty when it cannot be read (titles tell them then).
     */
    private Map<Long, String> postgresRoles() {
        Map<Long, String> roles = new HashMap<>();
        Map<Long, Long> leaders = new HashMap<>();
        try (Connection c = connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pid, backend_type, application_name, leader_pid FROM pg_stat_activity "
                     + "WHERE pid IS NOT NULL")) {
            while (rs.next()) {
                long pid = rs.getLong(1);
                String type = rs.getString(2);
                roles.put(pid, "metering-sink".equals(rs.getString(3)) ? CpuSampler.SINK_BACKENDS
                        : "client backend".equals(type) ? CpuSampler.OTHER_CLIENTS
                        : type != null && type.startsWith("autovacuum") ? CpuSampler.AUTOVACUUM
                        : "parallel worker".equals(type) ? CpuSampler.OTHER_CLIENTS
                        : CpuSampler.BACKGROUND);
                long leader = rs.getLong(4);
                if (!rs.wasNull() && leader != pid) {
                    leaders.put(pid, leader);
                }
            }
        } catch (SQLException | RuntimeException e) {
            return Map.of();
        }
        leaders.forEach((worker, leader) -> roles.put(worker, roles.getOrDefault(leader, CpuSampler.OTHER_CLIENTS)));
        return roles;
    }

    /** Events counted in the org totals the check reads. */
    static long orgEvents(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(SUM(events), 0) FROM metering.org_usage_daily")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Rows of the event log, or 0 when it is not tracked. */
    long eventLogRows(Connection c) throws SQLException {
        if (!eventLogTable) {
            return 0;
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM metering.usage_events")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static boolean eventLogTableExists(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT to_regclass('metering.usage_events') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
