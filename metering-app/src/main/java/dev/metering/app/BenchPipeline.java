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
import java.util.ArrayList;
import java.util.Arrays;
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
    private final UsageMeter meter;
    private final PrintStream out;
    /** Also wait for {@code metering.usage_events}: the event log is on and the table exists in this build. */
    private final boolean eventLogTable;

    BenchPipeline(DevStack stack, UsageMeter meter, PrintStream out, boolean eventLogOn) throws SQLException {
        this.stack = stack;
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
        long start = System.nanoTime();
        for (UsageEvent e : batch) {
            meter.record(e);
        }
        meter.flush();
        double produced = (System.nanoTime() - start) / 1e9;
        awaitVisible(orgEventsBefore + events, eventLogRowsBefore + events, Duration.ofMinutes(10));
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf("    produced in %.1f s, all committed in PostgreSQL after %.1f s%n", produced, seconds);
        return events / seconds;
    }

    /** The org (1..1000) of the {@code i}-th event of (b): a fixed stride that visits all orgs evenly. */
    static int benchOrg(long i) {
        return 1 + (int) (i * 7919 % 1000); // long: i * 7919 overflows an int from i = 271,189 on
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
    Freshness freshness(String token, double rate, int probes) throws Exception {
        out.printf("(c) %d probes under %,.0f events/s of background load ...%n", probes, rate);
        AtomicBoolean stop = new AtomicBoolean();
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
                LockSupport.parkNanos(1_000_000);
            }
        }, "bench-load");
        load.setDaemon(true);
        load.start();
        HttpClient http = HttpClient.newHttpClient();
        ObjectMapper json = new ObjectMapper();
        String probeOrg = "bench-probe-" + System.nanoTime();
        URI check = URI.create(stack.apiUrl() + "/api/v1/usage/" + probeOrg + "/check/CHAT_MESSAGE");
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
        return Freshness.of(latencies);
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
