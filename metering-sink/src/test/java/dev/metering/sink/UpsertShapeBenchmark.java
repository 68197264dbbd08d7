package dev.metering.sink;

import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import dev.metering.sink.bench.SinkBenchmark;
import java.io.StringReader;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.jooq.Field;
import org.jooq.InsertValuesStepN;
import org.jooq.Record;
import org.jooq.conf.ParamType;
import org.jooq.impl.DSL;
import org.postgresql.PGConnection;

/**
 * A/B of the statement shapes for the window upsert, on one connection, no Kafka: the same
 * collapsed, sorted batches written with (V) multi-row VALUES (the sink's form before the unnest),
 * (U) one unnest statement per table, (C) COPY into a temp table + one INSERT ... SELECT merge,
 * (F) as U on tables with fillfactor 70 (a probe: no migration sets it). Each run on a fresh database.
 *
 * <pre>
 * mvn -B -ntp -o -pl metering-sink test-compile exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *     "-Dexec.args=-cp %classpath dev.metering.sink.UpsertShapeBenchmark 1000000 50000 5000"
 * </pre>
 */
public final class UpsertShapeBenchmark {

    private UpsertShapeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int updates = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        int batchSize = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
        String order = args.length > 3 ? args[3] : "VUCCUV";
        PostgresServer postgres = TestInfra.postgres();
        TopicPartition tp = new TopicPartition("t", 0);
        List<List<WindowUpdate>> batches = new ArrayList<>();
        for (int start = 0; start < updates; start += batchSize) {
            List<WindowUpdate> batch = new ArrayList<>();
            for (int j = start; j < Math.min(updates, start + batchSize); j++) {
                batch.add(new WindowUpdate(SinkBenchmark.key(j % keys), SinkBenchmark.totals(j / keys + 1), tp, j, j,
                        null, null));
            }
            batch.sort(RecordDecoder.KEY_ORDER);
            batches.add(batch);
        }
        String run = "shape" + System.currentTimeMillis();
        int n = 0;
        for (char shape : order.toCharArray()) {
            String db = run + "_" + (n++);
            String url = postgres.createDatabase(db);
            Migrations.migrate(url, postgres.user(), postgres.password());
            if (shape == 'F') {
                // probe only (no migration does this): free space on each page, so an update can stay HOT
                try (Connection c = postgres.connect(db); Statement s = c.createStatement()) {
                    for (UsageUpsert.Target t : UsageUpsert.Target.values()) {
                        s.execute("alter table metering." + t.tableName() + " set (fillfactor = 70)");
                    }
                }
            }
            UsageUpsert upsert = new UsageUpsert();
            long started = System.nanoTime();
            try (Connection c = postgres.connect(db)) {
                c.setAutoCommit(false);
                OffsetDateTime now = OffsetDateTime.of(2026, 11, 22, 0, 0, 0, 0, ZoneOffset.UTC);
                for (List<WindowUpdate> batch : batches) {
                    for (Map.Entry<UsageUpsert.Target, List<WindowUpdate>> e : UsageUpsert.byTarget(batch).entrySet()) {
                        switch (shape) {
                            case 'V' -> upsertValues(c, e.getKey(), e.getValue(), now);
                            case 'U', 'F' -> upsert.upsert(c, e.getKey(), e.getValue(), now);
                            case 'C' -> copyMerge(c, e.getKey(), e.getValue(), now);
                            default -> throw new IllegalArgumentException("shape " + shape);
                        }
                    }
                    c.commit();
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            String totals;
            try (Connection c = postgres.connect(db); Statement s = c.createStatement();
                 var rs = s.executeQuery("select count(*) || '/' || sum(events) || '/' || sum(cost_usd) || '/'"
                         + " || max(updated_at) from metering.usage_hourly")) {
                rs.next();
                totals = rs.getString(1);
            }
            System.out.printf("%s: %,d rows in %.1f s = %,.0f rows/s  (hourly %s)%n",
                    shape == 'V' ? "VALUES" : shape == 'U' ? "UNNEST" : shape == 'F' ? "UNNEST, fillfactor 70" : "COPY  ", updates, seconds, updates / seconds,
                    totals);
        }
        System.exit(0);
    }

    private static final Map<String, String> valuesStatements = new java.util.HashMap<>();
    private static final org.jooq.DSLContext RENDERER = org.jooq.impl.DSL.using(org.jooq.SQLDialect.POSTGRES,
            new org.jooq.conf.Settings().withRenderFormatted(false));

    /** The multi-row VALUES form the sink used before (one text per row count, equal parts up to 1024 rows). */
    static UsageUpsert.Outcome upsertValues(Connection connection, UsageUpsert.Target target, List<WindowUpdate> rows, OffsetDateTime now)
            throws SQLException {
        int written = 0;
        int statementsSent = 0;
        int from = 0;
        int parts = statementsFor(rows.size());
        for (int part = 0; part < parts; part++) {
            int n = (rows.size() - from) / (parts - part);
            String sql = valuesStatements.computeIfAbsent(target + "/" + n, k -> render(target, n));
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                int i = 1;
                for (WindowUpdate row : rows.subList(from, from + n)) {
                    i = bind(statement, i, target, row, now);
                }
                written += statement.executeUpdate();
                statementsSent++;
            }
            from += n;
        }
        return new UsageUpsert.Outcome(written, rows.size() - written, statementsSent);
    }

    /** How many statements {@code rows} rows need: the fewest that keep each at most 1024 rows. */
    private static int statementsFor(int rows) {
        return (rows + 1024 - 1) / 1024;
    }

    /** The SQL text jOOQ renders for {@code rows} rows (indexed {@code ?} parameters). */
    private static String render(UsageUpsert.Target target, int rows) {
        List<Field<?>> columns = new ArrayList<>(target.keyColumns);
        columns.addAll(target.valueColumns);
        List<Field<?>> parameters = new ArrayList<>();
        for (Field<?> column : columns) {
            parameters.add(DSL.val(null, column.getDataType()));
        }
        InsertValuesStepN<? extends Record> insert = RENDERER.insertInto(target.table).columns(columns);
        for (int r = 0; r < rows; r++) {
            insert = insert.values(parameters);
        }
        Map<Field<?>, Field<?>> updates = new LinkedHashMap<>();
        for (Field<?> column : target.valueColumns) {
            updates.put(column, DSL.excluded(column));
        }
        return RENDERER.renderContext().paramType(ParamType.INDEXED).render(
                insert.onConflict(target.keyColumns)
                        .doUpdate()
                        .set(updates)
                        .where(target.version.lt(DSL.excluded(target.version))));
    }

    private static int bind(PreparedStatement s, int i, UsageUpsert.Target target, WindowUpdate row, OffsetDateTime now)
            throws SQLException {
        UsageWindowKey key = row.key();
        UsageWindowTotals totals = row.totals();
        OffsetDateTime windowStart = UsageUpsert.utc(key.getWindowStart());
        if (target.detail) {
            s.setString(i++, key.getOrgId());
            s.setObject(i++, windowStart);
            s.setString(i++, key.getUserId());
            s.setString(i++, key.getFeature());
            s.setString(i++, key.getProvider());
            s.setString(i++, key.getModel());
        } else {
            s.setString(i++, key.getOrgId());
            s.setString(i++, key.getFeature());
            s.setObject(i++, windowStart);
        }
        s.setLong(i++, totals.getEvents());
        s.setLong(i++, totals.getQuantity());
        s.setLong(i++, totals.getInputTokens());
        s.setLong(i++, totals.getOutputTokens());
        s.setLong(i++, totals.getCachedInputTokens());
        s.setLong(i++, totals.getUnpricedEvents());
        s.setBigDecimal(i++, row.costUsd());
        s.setObject(i++, UsageUpsert.utc(totals.getFirstEventAt()));
        s.setObject(i++, UsageUpsert.utc(totals.getLastEventAt()));
        s.setObject(i++, now);
        s.setLong(i++, totals.getVersion());
        return i;
    }


    private static void copyMerge(Connection c, UsageUpsert.Target target, List<WindowUpdate> rows, OffsetDateTime now)
            throws Exception {
        String stage = "stage_" + target.tableName();
        try (Statement s = c.createStatement()) {
            s.execute("create temp table if not exists " + stage + " (like metering." + target.tableName()
                    + ") on commit delete rows");
        }
        StringBuilder data = new StringBuilder(rows.size() * 160);
        for (WindowUpdate r : rows) {
            var k = r.key();
            var t = r.totals();
            // the table's column order
            if (target.detail) {
                data.append(k.getOrgId()).append('\t').append(k.getUserId()).append('\t').append(k.getFeature())
                        .append('\t').append(k.getProvider()).append('\t').append(k.getModel()).append('\t')
                        .append(k.getWindowStart()).append('\t');
            } else {
                data.append(k.getOrgId()).append('\t').append(k.getFeature()).append('\t')
                        .append(k.getWindowStart()).append('\t');
            }
            data.append(t.getEvents()).append('\t').append(t.getQuantity()).append('\t').append(t.getInputTokens())
                    .append('\t').append(t.getOutputTokens()).append('\t').append(t.getCachedInputTokens()).append('\t')
                    .append(t.getUnpricedEvents()).append('\t').append(r.costUsd().toPlainString()).append('\t')
                    .append(t.getFirstEventAt()).append('\t').append(t.getLastEventAt()).append('\t').append(now)
                    .append('\t').append(t.getVersion()).append('\n');
        }
        c.unwrap(PGConnection.class).getCopyAPI().copyIn("copy " + stage + " from stdin", new StringReader(data.toString()));
        String keys = target.detail ? "org_id, window_start, user_id, feature, provider, model" : "org_id, feature, window_start";
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into metering." + target.tableName() + " as t select * from " + stage
                    + " order by " + keys + " on conflict (" + keys + ") do update set events = excluded.events,"
                    + " quantity = excluded.quantity, input_tokens = excluded.input_tokens, output_tokens ="
                    + " excluded.output_tokens, cached_input_tokens = excluded.cached_input_tokens, unpriced_events ="
                    + " excluded.unpriced_events, cost_usd = excluded.cost_usd, first_event_at = excluded.first_event_at,"
                    + " last_event_at = excluded.last_event_at, updated_at = excluded.updated_at,"
                    + " version = excluded.version where t.version < excluded.version");
        }
    }
}
