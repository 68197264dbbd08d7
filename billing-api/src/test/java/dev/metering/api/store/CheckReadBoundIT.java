package dev.metering.api.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.usage.Segments;
import dev.metering.api.usage.UsageSegment;
import dev.metering.api.usage.UsageTotals;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

/**
 * The bound a check keeps (docs/architecture.md, Grains), for a monthly per-user limit: at most 31
 * day rows per (feature, provider, model) the user used, plus, when the period does not start at
 * midnight, the detail rows of at most 46 hours at its two edges (the user's, or the org's when
 * the planner scans the hours by time), whatever the history of the user and the org. Measured
 * with EXPLAIN ANALYZE on the real PostgreSQL: the rows each scan of the usage tables read.
 */
class CheckReadBoundIT {

    private static final Instant MONTH = Instant.parse("2026-11-01T00:00:00Z");
    private static final Instant NEXT_MONTH = Instant.parse("2026-12-01T00:00:00Z");
    private static final String[] MODELS = {"gpt-5", "gpt-5-mini", "claude-haiku-4-5"};

    @Test
    void shouldReadAtMost31DayRowsPerModelForAMonthlyPerUserLimitWhateverTheHistory() throws Exception {
        PostgresServer pg = TestInfra.postgres();
        String url = pg.createDatabase("check_read_bound_" + System.nanoTime());
        Migrations.migrate(url, pg.user(), pg.password());
        try (Connection c = pg.connect(url.substring(url.lastIndexOf('/') + 1)); Statement s = c.createStatement()) {
            // three years of daily and hourly rows for u1 (three models), and 200 other users of the org
            for (String table : List.of("usage_daily", "usage_hourly")) {
                String step = table.equals("usage_daily") ? "1 day" : "6 hours";
                s.execute("INSERT INTO metering." + table + " (org_id, user_id, feature, provider, model, window_start, events,"
                        + " quantity, input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd,"
                        + " first_event_at, last_event_at, updated_at, version)"
                        + " SELECT 'acme', u, 'AI_COMPLETION', 'p', m, w, 1, 1, 10, 5, 0, 0, 0.001, w, w, now(), 1"
                        + " FROM generate_series(timestamptz '2024-01-01', timestamptz '2026-11-30', interval '" + step + "') w,"
                        + " unnest(ARRAY['gpt-5', 'gpt-5-mini', 'claude-haiku-4-5']) m,"
                        + " (SELECT 'u1' AS u UNION ALL SELECT 'other-' || g FROM generate_series(1, "
                        + (table.equals("usage_daily") ? "200" : "5") + ") g) users");
            }
            s.execute("ANALYZE metering.usage_daily");
            s.execute("ANALYZE metering.usage_hourly");
        }
        UsageRepository repository = new UsageRepository(DSL.using(url, pg.user(), pg.password()));

        // a calendar month, and a billing period starting mid-day (hour rows at both ends)
        assertBound(repository, url, pg, Segments.decompose(MONTH, NEXT_MONTH, "u1", null), 30 * MODELS.length,
                30 * MODELS.length, 30);
        // 30 whole days, and 2 + 2 six-hourly rows at the edges: of u1 alone, or of the org's 6 users
        assertBound(repository, url, pg, Segments.decompose(Instant.parse("2026-10-15T09:00:00Z"),
                Instant.parse("2026-11-15T09:00:00Z"), "u1", "AI_COMPLETION"), (30 + 2 + 2) * MODELS.length,
                30 * MODELS.length + (2 + 2) * MODELS.length * 6, 30 + 2 + 2);
    }

    private static void assertBound(UsageRepository repository, String url, PostgresServer pg, List<UsageSegment> segments,
            long usersRows, long bound, long expectedEvents) throws Exception {
        Map.Entry<String, List<Object>> statement = repository.statement("acme", segments);
        long rows;
        try (Connection c = pg.connect(url.substring(url.lastIndexOf('/') + 1));
                PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.getKey())) {
            for (int i = 0; i < statement.getValue().size(); i++) {
                ps.setObject(i + 1, statement.getValue().get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                rows = scannedRows(new ObjectMapper().readTree(rs.getString(1)).get(0).get("Plan"));
            }
        }
        assertThat(rows).as("rows read from the usage tables").isBetween(usersRows, bound);
        Map<UsageSegment, UsageTotals> totals = repository.totals("acme", new LinkedHashSet<>(segments));
        long events = totals.values().stream().mapToLong(UsageTotals::events).sum();
        assertThat(events).as("events of u1's three models / 3").isEqualTo(expectedEvents * MODELS.length);
    }

    /** The rows every scan node over a usage table read: returned plus filtered out, times its loops. */
    private static long scannedRows(JsonNode plan) {
        long rows = 0;
        String relation = plan.path("Relation Name").asText("");
        if (relation.startsWith("usage_")) {
            rows += (plan.get("Actual Rows").asLong() + plan.path("Rows Removed by Filter").asLong(0)
                    + plan.path("Rows Removed by Index Recheck").asLong(0)) * plan.get("Actual Loops").asLong();
        }
        for (JsonNode child : plan.path("Plans")) {
            rows += scannedRows(child);
        }
        return rows;
    }
}
