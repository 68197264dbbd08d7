package dev.metering.api.report;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jooq.Cursor;
import org.jooq.DSLContext;
import org.jooq.Record;

/**
 * Usage report SQL over the detail tables (absolute window totals written by the sink): hour from
 * {@code usage_hourly}, day from {@code usage_daily}, month = calendar months (UTC) of
 * {@code usage_daily}. One range scan of the primary key {@code (org_id, window_start, ...)}.
 * Top orgs read the org grain ({@code org_usage_daily}).
 */
public final class ReportRepository {

    private final DSLContext dsl;

    public ReportRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** Streams the rows in (period, group) order to {@code sink}, reading with a cursor. */
    public void report(ReportQuery q, Consumer<ReportRow> sink) {
        List<String> dims = new ArrayList<>();
        if (q.groups("feature")) {
            dims.add("feature");
        }
        if (q.groups("model")) {
            dims.add("provider");
            dims.add("model");
        }
        if (q.groups("user")) {
            dims.add("user_id");
        }
        String period = switch (q.granularity()) {
            case HOUR, DAY -> "window_start";
            case MONTH -> "(date_trunc('month', window_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')";
        };
        String table = q.granularity() == ReportQuery.Granularity.HOUR ? "metering.usage_hourly" : "metering.usage_daily";
        String dimList = dims.isEmpty() ? "" : ", " + String.join(", ", dims);
        String sql = "SELECT " + period + " AS period" + dimList
                + ", SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens), SUM(cached_input_tokens), "
                + "SUM(unpriced_events), SUM(cost_usd), SUM(cache_write_tokens), SUM(reasoning_tokens) FROM " + table
                + " WHERE org_id = ? AND window_start >= CAST(? AS timestamptz) AND window_start < CAST(? AS timestamptz)"
                + " GROUP BY 1" + dimList + " ORDER BY 1" + dimList;
        dsl.transaction(tx -> {
            try (Cursor<Record> cursor = tx.dsl().resultQuery(sql, q.orgId(), q.from().atOffset(ZoneOffset.UTC),
                    q.to().atOffset(ZoneOffset.UTC)).fetchSize(1000).fetchLazy()) {
                for (Record r : cursor) {
                    int i = 1;
                    String feature = q.groups("feature") ? r.get(i++, String.class) : null;
                    String provider = q.groups("model") ? r.get(i++, String.class) : null;
                    String model = q.groups("model") ? r.get(i++, String.class) : null;
                    String user = q.groups("user") ? r.get(i++, String.class) : null;
                    sink.accept(new ReportRow(r.get(0, OffsetDateTime.class).toInstant(), feature, provider, model, user,
                            r.get(i, Long.class), r.get(i + 1, Long.class), r.get(i + 2, Long.class),
                            r.get(i + 3, Long.class), r.get(i + 4, Long.class), r.get(i + 5, Long.class),
                            r.get(i + 6, BigDecimal.class), r.get(i + 7, Long.class), r.get(i + 8, Long.class)));
                }
            }
        });
    }

    /** One org's totals in a range, for the top-orgs report. */
    public record OrgTotals(String orgId, String planId, long events, long quantity, long tokens, BigDecimal costUsd) {
    }

    /**
     * Orgs ranked by {@code by} over whole days {@code [from, to)}; {@code plan}: only orgs whose
     * current plan is it (the subscription's, else the catalog's default plan).
     */
    public List<OrgTotals> topOrgs(OffsetDateTime from, OffsetDateTime to, String by, String plan, String defaultPlan,
                                   int limit) {
        String order = switch (by) {
            case "tokens" -> "tokens";
            case "events" -> "events";
            default -> "cost_usd";
        };
        String sql = "SELECT t.org_id, t.plan_id, t.events, t.quantity, t.tokens, t.cost_usd FROM ("
                + " SELECT d.org_id, COALESCE(s.plan_id, CAST(? AS text)) AS plan_id, SUM(d.events) AS events,"
                + " SUM(d.quantity) AS quantity, SUM(d.input_tokens + d.output_tokens) AS tokens, SUM(d.cost_usd) AS cost_usd"
                + " FROM metering.org_usage_daily d LEFT JOIN metering.subscriptions s ON s.org_id = d.org_id"
                + " WHERE d.window_start >= CAST(? AS timestamptz) AND d.window_start < CAST(? AS timestamptz)"
                + " GROUP BY d.org_id, s.plan_id) t"
                + " WHERE CAST(? AS text) IS NULL OR t.plan_id = CAST(? AS text)"
                + " ORDER BY t." + order + " DESC, t.org_id LIMIT ?";
        return dsl.resultQuery(sql, defaultPlan, from, to, plan, plan, limit).fetch(r -> new OrgTotals(
                r.get(0, String.class), r.get(1, String.class), r.get(2, Long.class), r.get(3, Long.class),
                r.get(4, Long.class), r.get(5, BigDecimal.class)));
    }

    /** Check decisions of one UTC day, all orgs: what check_outcomes_daily holds. */
    public record DayOutcomes(LocalDate day, long checks, long allowed, long blocked, long wouldBlock) {
    }

    /** Per day in {@code [from, to)}, oldest first; days without checks are absent. */
    public List<DayOutcomes> checkOutcomes(LocalDate from, LocalDate to) {
        String sql = "SELECT day, SUM(checks),"
                + " COALESCE(SUM(checks) FILTER (WHERE outcome = 'allowed'), 0),"
                + " COALESCE(SUM(checks) FILTER (WHERE outcome = 'blocked'), 0),"
                + " COALESCE(SUM(checks) FILTER (WHERE outcome = 'would_block'), 0)"
                + " FROM metering.check_outcomes_daily WHERE day >= ? AND day < ? GROUP BY day ORDER BY day";
        return dsl.resultQuery(sql, from, to).fetch(r -> new DayOutcomes(r.get(0, LocalDate.class),
                r.get(1, Long.class), r.get(2, Long.class), r.get(3, Long.class), r.get(4, Long.class)));
    }
}
