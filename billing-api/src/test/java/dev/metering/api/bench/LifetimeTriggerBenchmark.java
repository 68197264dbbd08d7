package dev.metering.api.bench;

import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * What the V5 lifetime triggers cost the sink: the sink's upsert of {@code usage_hourly} (one
 * INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE per batch, as metering-sink writes it)
 * with the triggers enabled and disabled, on new rows (INSERT path) and on rows rewritten with a
 * higher version (UPDATE path). Prints rows/s; asserts nothing.
 *
 * <p>{@code java -cp ... dev.metering.api.bench.LifetimeTriggerBenchmark [batches=200] [batch=1000]}
 */
public final class LifetimeTriggerBenchmark {

    private static final String UPSERT = "INSERT INTO metering.usage_hourly AS t (org_id, window_start, user_id, feature,"
            + " provider, model, events, quantity, input_tokens, output_tokens, cached_input_tokens, unpriced_events,"
            + " cost_usd, first_event_at, last_event_at, updated_at, version)"
            + " SELECT u.org_id, u.window_start, u.user_id, 'CHAT_MESSAGE', 'openai', 'gpt-5', u.n, u.n, u.n * 10, u.n * 5,"
            + " 0, 0, u.n * 0.001, u.window_start, u.window_start, now(), u.version"
            + " FROM unnest(?::text[], ?::timestamptz[], ?::text[], ?::bigint[], ?::bigint[])"
            + " AS u(org_id, window_start, user_id, n, version)"
            + " ON CONFLICT (org_id, window_start, user_id, feature, provider, model) DO UPDATE SET"
            + " events = excluded.events, quantity = excluded.quantity, input_tokens = excluded.input_tokens,"
            + " output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd,"
            + " last_event_at = excluded.last_event_at, updated_at = excluded.updated_at, version = excluded.version"
            + " WHERE t.version < excluded.version";

    public static void main(String[] args) throws Exception {
        int batches = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        PostgresServer pg = TestInfra.postgres();
        String url = pg.createDatabase("bench_lifetime_trigger");
        Migrations.migrate(url, pg.user(), pg.password());
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
            for (boolean triggers : new boolean[] {true, false, true, false}) {
                try (Statement s = c.createStatement()) {
                    s.execute("TRUNCATE metering.usage_hourly, metering.usage_lifetime");
                    s.execute("ALTER TABLE metering.usage_hourly " + (triggers ? "ENABLE" : "DISABLE") + " TRIGGER USER");
                }
                double insert = run(c, batches, batch, 1);
                double update = run(c, batches, batch, 2);
                String check = "";
                if (triggers) {
                    try (Statement s = c.createStatement(); var rs = s.executeQuery("SELECT (SELECT SUM(quantity) FROM"
                            + " metering.usage_lifetime), (SELECT SUM(quantity) FROM metering.usage_hourly)")) {
                        rs.next();
                        check = "   lifetime quantity " + rs.getLong(1) + " = hourly " + rs.getLong(2);
                    }
                }
                System.out.printf("triggers %-3s  insert path %,10.0f rows/s   update path %,10.0f rows/s%s%n",
                        triggers ? "on" : "off", insert, update, check);
            }
        }
    }

    /** {@code batches} statements of {@code batch} rows: 100 orgs x 50 users, hours from 2026-01-01. */
    private static double run(Connection c, int batches, int batch, long version) throws Exception {
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        c.setAutoCommit(false);
        long t0 = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
            for (int b = 0; b < batches; b++) {
                String[] orgs = new String[batch];
                String[] windows = new String[batch];
                String[] users = new String[batch];
                Long[] n = new Long[batch];
                Long[] versions = new Long[batch];
                for (int i = 0; i < batch; i++) {
                    int row = b * batch + i;
                    orgs[i] = "org-" + (row % 100);
                    users[i] = "user-" + (row / 100 % 50);
                    windows[i] = start.plus(row / 5000, ChronoUnit.HOURS).toString();
                    n[i] = version;
                    versions[i] = version;
                }
                ps.setArray(1, c.createArrayOf("text", orgs));
                ps.setArray(2, c.createArrayOf("text", windows));
                ps.setArray(3, c.createArrayOf("text", users));
                ps.setArray(4, c.createArrayOf("bigint", n));
                ps.setArray(5, c.createArrayOf("bigint", versions));
                ps.executeUpdate();
                c.commit();
            }
        }
        return (double) batches * batch / ((System.nanoTime() - t0) / 1e9);
    }
}
