package dev.metering.sink.bench;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Drains a backlog of aggregate updates with the real sink and compares it, in the same run and
 * on the same PostgreSQL, with a bare multi-row JDBC upsert of the same rows (the ceiling).
 *
 * <pre>
 * flock /tmp/metering-bench.lock mvn -B -ntp -o -pl metering-sink test-compile exec:exec -Dexec.executable=java \
 *     -Dexec.classpathScope=test "-Dexec.args=-cp %classpath dev.metering.sink.bench.SinkBenchmark 1000000 50000"
 * </pre>
 *
 * Arguments: updates (default 1,000,000), distinct keys (default 50,000), sink batch size (default 5000).
 * Update j is version j / keys + 1 of key j % keys: a backlog where every key moves many times.
 */
public final class SinkBenchmark {

    private static final Instant HOUR = Instant.parse("2026-11-02T10:00:00Z");
    private static final Instant DAY = Instant.parse("2026-11-02T00:00:00Z");
    private static final int JDBC_ROWS_PER_STATEMENT = 1000;
    /** The grains streams emits since aggregation v2: detail hour, conversation, org hour, org day. */
    private static boolean v2;

    private SinkBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int updates = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        int batchSize = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
        v2 = args.length > 3 && args[3].equals("v2");
        PostgresServer postgres = TestInfra.postgres();
        String bootstrap = TestInfra.kafka().bootstrapServers();
        String registryUrl = TestInfra.registry().confluentUrl();
        String run = "bench" + System.currentTimeMillis();
        Topics topics = new Topics(run + ".");
        Map<String, Object> client = Map.of("bootstrap.servers", bootstrap, "schema.registry.url", registryUrl);
        System.out.printf("sink benchmark: %,d updates over %,d keys, sink batch %,d records, %s key mix%n", updates, keys,
                batchSize, v2 ? "v2 (detail hour, conversation, org hour, org day; the bare JDBC upsert skips"
                        + " conversations)" : "v1 (detail and org, hour and day)");

        // 1. the backlog
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topics.aggregates(), 4, (short) 1),
                    new NewTopic(topics.deadLetters(), 1, (short) 1))).all().get();
        }
        long produceStart = System.nanoTime();
        produce(topics.aggregates(), client, updates, keys);
        System.out.printf("produced backlog in %.1f s%n", seconds(produceStart));

        // 2. the ceiling, before the sink: the same rows, multi-row upsert over plain JDBC, same commit
        //    size, same server (run before AND after the sink: the machine's load varies)
        String jdbcDb = postgres.createDatabase(run + "_jdbc");
        Migrations.migrate(jdbcDb, postgres.user(), postgres.password());
        long jdbcStart = System.nanoTime();
        bareJdbc(postgres, run + "_jdbc", updates, keys, batchSize);
        double jdbcSecondsBefore = seconds(jdbcStart);

        // 3. the sink drains the backlog
        String sinkDb = postgres.createDatabase(run + "_sink");
        Migrations.migrate(sinkDb, postgres.user(), postgres.password());
        SinkConfig config = new SinkConfig(topics, sinkDb, postgres.user(), postgres.password(), run, batchSize,
                Duration.ofMillis(50), Duration.ofSeconds(5), Duration.ofSeconds(5), -1, false, client);
        long sinkStart = System.nanoTime();
        double sinkSeconds;
        String metrics;
        try (SinkApp.RunningSink sink = SinkApp.start(config);
             Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            while (!drained(admin, topics, run)) {
                if (!sink.isRunning()) {
                    throw new IllegalStateException("sink stopped", sink.failure());
                }
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
            }
            sinkSeconds = seconds(sinkStart);
            metrics = PrometheusTextFormatWriter.create().toDebugString(sink.metricsRegistry().scrape());
        }
        long rowsWritten = sum(metrics, "metering_sink_rows_upserted_total");
        long stale = sum(metrics, "metering_sink_stale_updates_ignored_total");
        long statements = sum(metrics, "metering_sink_upsert_statements_total");
        long batches = sum(metrics, "metering_sink_batches_total");
        long collapsed = sum(metrics, "metering_sink_updates_collapsed_total");
        double flushSeconds = sumDouble(metrics, "metering_sink_batch_write_seconds_sum");
        double commitSeconds = sumDouble(metrics, "metering_sink_offset_commit_seconds_sum");

        // 4. the ceiling again, after the sink
        String jdbcDbAfter = postgres.createDatabase(run + "_jdbc2");
        Migrations.migrate(jdbcDbAfter, postgres.user(), postgres.password());
        jdbcStart = System.nanoTime();
        bareJdbc(postgres, run + "_jdbc2", updates, keys, batchSize);
        double jdbcSecondsAfter = seconds(jdbcStart);
        double jdbcSeconds = (jdbcSecondsBefore + jdbcSecondsAfter) / 2;

        String check = checkTotals(postgres, run + "_sink", run + "_jdbc");
        double sinkRate = updates / sinkSeconds;
        double jdbcRate = updates / jdbcSeconds;
        System.out.printf("sink      : %,d updates committed in %.1f s = %,.0f updates/s (%,d batches, %,d statements, "
                        + "%.0f rows/statement, %,d rows written, %,d stale ignored, %,d collapsed in batch)%n",
                updates, sinkSeconds, sinkRate, batches, statements, statements == 0 ? 0.0 : (double) (rowsWritten + stale)
                        / statements, rowsWritten, stale, collapsed);
        // batches overlap (batch N+1 is polled and decoded while N is written), so these sums are not parts of the total
        System.out.printf("            batch times summed: %.1f s decoding, collapsing and writing, %.1f s committing offsets"
                        + " (overlapping each other and the polling)%n", flushSeconds - commitSeconds, commitSeconds);
        System.out.printf("bare JDBC : %,d rows upserted in %.1f s before and %.1f s after the sink, mean %,.0f rows/s"
                        + " (%d rows per statement, commit every %,d)%n",
                updates, jdbcSecondsBefore, jdbcSecondsAfter, jdbcRate, JDBC_ROWS_PER_STATEMENT, batchSize);
        System.out.printf("ratio     : sink / bare JDBC = %.2f x (target >= 0.5 x)%n", sinkRate / jdbcRate);
        System.out.println("tables    : " + check);
        System.exit(0);
    }

    private static void produce(String topic, Map<String, Object> client, int updates, int keys) throws Exception {
        SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(client);
        Serializer<UsageWindowKey> keySerializer =
                AvroSerdes.specific(UsageWindowKey.class, registry, client, true).serializer();
        Serializer<UsageWindowTotals> valueSerializer =
                AvroSerdes.specific(UsageWindowTotals.class, registry, client, false).serializer();
        byte[][] keyBytes = new byte[keys][];
        for (int k = 0; k < keys; k++) {
            keyBytes[k] = keySerializer.serialize(topic, key(k));
        }
        Map<String, Object> properties = new HashMap<>(client);
        properties.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        properties.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                     new KafkaProducer<>(properties, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int j = 0; j < updates; j++) {
                int k = j % keys;
                producer.send(new ProducerRecord<>(topic, keyBytes[k], valueSerializer.serialize(topic, totals(j / keys + 1))));
            }
            producer.flush();
        }
    }

    public static UsageWindowKey key(int k) {
        if (v2 && k % 4 < 2) {
            boolean conversation = k % 4 == 1;
            return UsageWindowKey.newBuilder()
                    .setGrain(conversation ? WindowGrain.CONVERSATION : WindowGrain.DETAIL)
                    .setSize(conversation ? WindowSize.LIFETIME : WindowSize.HOUR)
                    .setWindowStart(conversation ? Instant.EPOCH : HOUR)
                    .setOrgId("org-" + (k / 4))
                    .setUserId(conversation ? "" : "user-" + (k % 7))
                    .setConversationId(conversation ? "conv-" + (k % 13) : "")
                    .setFeature("AI_COMPLETION")
                    .setProvider(conversation ? "" : "openai")
                    .setModel(conversation ? "" : "gpt-4o")
                    .build();
        }
        boolean org = k % 4 >= 2;
        return UsageWindowKey.newBuilder()
                .setGrain(org ? WindowGrain.ORG : WindowGrain.DETAIL)
                .setSize(k % 2 == 0 ? WindowSize.HOUR : WindowSize.DAY)
                .setWindowStart(k % 2 == 0 ? HOUR : DAY)
                .setOrgId("org-" + (k / 4))
                .setUserId(org ? "" : "user-" + (k % 7))
                .setFeature("AI_COMPLETION")
                .setProvider(org ? "" : "openai")
                .setModel(org ? "" : "gpt-4o")
                .build();
    }

    public static UsageWindowTotals totals(long version) {
        return UsageWindowTotals.newBuilder().setEvents(version).setQuantity(version).setInputTokens(1200 * version)
                .setOutputTokens(300 * version).setCachedInputTokens(100 * version).setUnpricedEvents(0)
                .setCostFemtos(BigDecimal.valueOf(6_125_000_000_000L * version))
                .setFirstEventAt(HOUR.plusSeconds(1)).setLastEventAt(HOUR.plusSeconds(version)).setVersion(version)
                .build();
    }

    private static boolean drained(Admin admin, Topics topics, String group) throws Exception {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int p = 0; p < 4; p++) {
            request.put(new TopicPartition(topics.aggregates(), p), OffsetSpec.latest());
        }
        Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        for (Map.Entry<TopicPartition, org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo> end
                : admin.listOffsets(request).all().get().entrySet()) {
            OffsetAndMetadata c = committed.get(end.getKey());
            if (c == null || c.offset() < end.getValue().offset()) {
                return false;
            }
        }
        return true;
    }

    /** The ceiling: hand-written multi-row upsert, 1000 rows per statement, commit every batchSize rows. */
    private static void bareJdbc(PostgresServer postgres, String database, int updates, int keys, int commitEvery)
            throws SQLException {
        StringBuilder sql = new StringBuilder("INSERT INTO metering.usage_hourly (org_id, window_start, user_id,"
                + " feature, provider, model, events, quantity, input_tokens, output_tokens, cached_input_tokens,"
                + " unpriced_events, cost_usd, first_event_at, last_event_at, updated_at, version) VALUES ");
        String orgSql;
        for (int r = 0; r < JDBC_ROWS_PER_STATEMENT; r++) {
            sql.append(r == 0 ? "" : ", ").append("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        }
        String update = " DO UPDATE SET events = excluded.events, quantity = excluded.quantity,"
                + " input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
                + " cached_input_tokens = excluded.cached_input_tokens, unpriced_events = excluded.unpriced_events,"
                + " cost_usd = excluded.cost_usd, first_event_at = excluded.first_event_at,"
                + " last_event_at = excluded.last_event_at, updated_at = excluded.updated_at, version = excluded.version"
                + " WHERE t.version < excluded.version";
        String detail = sql.toString().replace("metering.usage_hourly", "%s AS t")
                + " ON CONFLICT (org_id, window_start, user_id, feature, provider, model)" + update;
        StringBuilder org = new StringBuilder("INSERT INTO %s AS t (org_id, feature, window_start, events, quantity,"
                + " input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at,"
                + " last_event_at, updated_at, version) VALUES ");
        for (int r = 0; r < JDBC_ROWS_PER_STATEMENT; r++) {
            org.append(r == 0 ? "" : ", ").append("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        }
        orgSql = org + " ON CONFLICT (org_id, feature, window_start)" + update;
        String[] tables = {"metering.usage_hourly", "metering.usage_daily", "metering.org_usage_hourly",
                "metering.org_usage_daily"};
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        try (Connection c = postgres.connect(database)) {
            c.setAutoCommit(false);
            for (int start = 0; start < updates; start += commitEvery) {
                int end = Math.min(updates, start + commitEvery);
                // rows of one commit, split by table like the sink does
                for (int t = 0; t < 4; t++) {
                    int[] rows = new int[end - start];
                    int n = 0;
                    for (int j = start; j < end; j++) {
                        if (j % keys % 4 == t) {
                            rows[n++] = j;
                        }
                    }
                    if (v2 && t == 1) {
                        continue;
                    }
                    boolean isOrg = t >= 2;
                    String table = tables[(t % 2 == 0 ? 0 : 1) + (isOrg ? 2 : 0)];
                    for (int from = 0; from < n; from += JDBC_ROWS_PER_STATEMENT) {
                        int size = Math.min(JDBC_ROWS_PER_STATEMENT, n - from);
                        String text = String.format(isOrg ? orgSql : detail, table);
                        if (size < JDBC_ROWS_PER_STATEMENT) {
                            text = shorten(text, size, isOrg ? 14 : 17);
                        }
                        try (PreparedStatement s = c.prepareStatement(text)) {
                            int i = 1;
                            for (int r = from; r < from + size; r++) {
                                int j = rows[r];
                                UsageWindowKey key = key(j % keys);
                                UsageWindowTotals v = totals(j / keys + 1);
                                OffsetDateTime windowStart = key.getWindowStart().atOffset(ZoneOffset.UTC);
                                s.setString(i++, key.getOrgId());
                                if (isOrg) {
                                    s.setString(i++, key.getFeature());
                                    s.setObject(i++, windowStart);
                                } else {
                                    s.setObject(i++, windowStart);
                                    s.setString(i++, key.getUserId());
                                    s.setString(i++, key.getFeature());
                                    s.setString(i++, key.getProvider());
                                    s.setString(i++, key.getModel());
                                }
                                s.setLong(i++, v.getEvents());
                                s.setLong(i++, v.getQuantity());
                                s.setLong(i++, v.getInputTokens());
                                s.setLong(i++, v.getOutputTokens());
                                s.setLong(i++, v.getCachedInputTokens());
                                s.setLong(i++, v.getUnpricedEvents());
                                s.setBigDecimal(i++, v.getCostFemtos().movePointLeft(15).setScale(9, RoundingMode.HALF_EVEN));
                                s.setObject(i++, v.getFirstEventAt().atOffset(ZoneOffset.UTC));
                                s.setObject(i++, v.getLastEventAt().atOffset(ZoneOffset.UTC));
                                s.setObject(i++, now);
                                s.setLong(i++, v.getVersion());
                            }
                            s.executeUpdate();
                        }
                    }
                }
                c.commit();
            }
        }
    }

    /** The statement text for fewer rows (the last statement of a table). */
    private static String shorten(String text, int rows, int columns) {
        String tuple = "(" + String.join(", ", java.util.Collections.nCopies(columns, "?")) + ")";
        int valuesStart = text.indexOf(" VALUES ") + " VALUES ".length();
        int valuesEnd = text.indexOf(" ON CONFLICT");
        StringBuilder values = new StringBuilder();
        for (int r = 0; r < rows; r++) {
            values.append(r == 0 ? "" : ", ").append(tuple);
        }
        return text.substring(0, valuesStart) + values + text.substring(valuesEnd);
    }

    /** Both databases must end with the same totals: the sink lost and double counted nothing. */
    private static String checkTotals(PostgresServer postgres, String sinkDb, String jdbcDb) throws SQLException {
        String query = "SELECT (SELECT count(*) || '/' || sum(events) || '/' || sum(cost_usd) FROM metering.usage_hourly)"
                + (v2 ? "" : " || ' ' || (SELECT count(*) || '/' || sum(events) FROM metering.usage_daily)")
                + " || ' ' || (SELECT count(*) || '/' || sum(events) FROM metering.org_usage_hourly)"
                + " || ' ' || (SELECT count(*) || '/' || sum(events) FROM metering.org_usage_daily)";
        String sink;
        String jdbc;
        try (Connection c = postgres.connect(sinkDb); Statement s = c.createStatement();
             var rs = s.executeQuery(query)) {
            rs.next();
            sink = rs.getString(1);
        }
        try (Connection c = postgres.connect(jdbcDb); Statement s = c.createStatement();
             var rs = s.executeQuery(query)) {
            rs.next();
            jdbc = rs.getString(1);
        }
        String result = "sink " + sink + (sink.equals(jdbc) ? " == " : " != ") + "bare JDBC " + jdbc
                + (v2 ? " (rows/events per table: hourly, org hourly, org daily)"
                        : " (rows/events per table: hourly, daily, org hourly, org daily)");
        if (v2) {
            // the bare upsert writes no day detail rows: the sink's must equal its own hours
            String derived = "SELECT (SELECT count(*) || '/' || sum(events) || '/' || sum(version) FROM metering.usage_daily)"
                    + " || ' ' || (SELECT count(DISTINCT (org_id, user_id, feature, provider, model, date_trunc('day', window_start)))"
                    + " || '/' || sum(events) || '/' || sum(version) FROM metering.usage_hourly)"
                    + " || ' ' || (SELECT count(*) || '/' || sum(events) FROM metering.conversation_usage)";
            try (Connection c = postgres.connect(sinkDb); Statement s = c.createStatement();
                 var rs = s.executeQuery(derived)) {
                rs.next();
                result += "; sink: daily, hours by day, conversations " + rs.getString(1);
            }
        }
        return result;
    }

    private static long sum(String metrics, String name) {
        return (long) sumDouble(metrics, name);
    }

    private static double sumDouble(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? ([0-9.E+]+)$").matcher(metrics);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
        }
        return total;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
