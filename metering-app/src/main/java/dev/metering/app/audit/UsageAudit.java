package dev.metering.app.audit;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * "Explain this number": every aggregate row of one org in a range (org grain {@code
 * org_usage_hourly}/{@code org_usage_daily}, detail grain {@code usage_hourly}/{@code usage_daily})
 * against the sum of the event log ({@code usage_events}) over the same key and window.
 *
 * <p>Counts, tokens and cost must be equal: the log keeps each event's exact cost
 * ({@code cost_femtos}), whose sum rounded half-even to nano-USD is what the aggregate holds.
 * Events logged before that column existed only have their cost rounded to nano-USD; a window
 * with such events is compared within that rounding, (events + 1) / 2 nano-USD. A row on one side
 * only is a difference (an event log that was off, or past its retention, shows up so).
 */
public final class UsageAudit {

    /** Hour or day windows (UTC), each with its org-grain and detail-grain table. */
    public enum Grain {
        HOUR(ChronoUnit.HOURS, "org_usage_hourly", "usage_hourly"),
        DAY(ChronoUnit.DAYS, "org_usage_daily", "usage_daily");

        final ChronoUnit unit;
        final String orgTable;
        final String detailTable;

        Grain(ChronoUnit unit, String orgTable, String detailTable) {
            this.unit = unit;
            this.orgTable = orgTable;
            this.detailTable = detailTable;
        }

        String sqlUnit() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The compared totals of one side; {@code exactCost}: the cost is the exact sum rounded once (log side). */
    record Totals(long events, long quantity, long inputTokens, long outputTokens, long cachedInputTokens,
                  long cacheWriteTokens, long reasoningTokens, long unpricedEvents, BigDecimal costUsd, boolean exactCost) {

        Totals(long events, long quantity, long inputTokens, long outputTokens, long cachedInputTokens,
               long cacheWriteTokens, long reasoningTokens, long unpricedEvents, BigDecimal costUsd) {
            this(events, quantity, inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens, reasoningTokens,
                    unpricedEvents, costUsd, false);
        }

        Totals withExactCost(BigDecimal femtos) {
            return new Totals(events, quantity, inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens,
                    reasoningTokens, unpricedEvents, femtos.movePointLeft(15).setScale(9, RoundingMode.HALF_EVEN), true);
        }
    }

    /** One key and window: the aggregate row and the event log's sum (either null when absent). */
    public record Row(String table, Instant windowStart, String key, Totals aggregate, Totals log) {

        /** What differs, e.g. {@code events 3 vs log 2}; empty when the row matches. */
        public List<String> differences() {
            List<String> out = new ArrayList<>();
            if (aggregate == null) {
                out.add("no aggregate row; the event log has " + log.events() + " event(s)");
                return out;
            }
            if (log == null) {
                out.add("no event in the event log; the aggregate has " + aggregate.events() + " event(s)");
                return out;
            }
            compare(out, "events", aggregate.events(), log.events());
            compare(out, "quantity", aggregate.quantity(), log.quantity());
            compare(out, "input_tokens", aggregate.inputTokens(), log.inputTokens());
            compare(out, "output_tokens", aggregate.outputTokens(), log.outputTokens());
            compare(out, "cached_input_tokens", aggregate.cachedInputTokens(), log.cachedInputTokens());
            compare(out, "cache_write_tokens", aggregate.cacheWriteTokens(), log.cacheWriteTokens());
            compare(out, "reasoning_tokens", aggregate.reasoningTokens(), log.reasoningTokens());
            compare(out, "unpriced_events", aggregate.unpricedEvents(), log.unpricedEvents());
            // without the exact costs: at most half a nano per event's rounding, plus the aggregate's own
            BigDecimal bound = log.exactCost() ? BigDecimal.ZERO
                    : BigDecimal.valueOf(log.events() + 1).multiply(new BigDecimal("0.0000000005"));
            if (aggregate.costUsd().subtract(log.costUsd()).abs().compareTo(bound) > 0) {
                out.add("cost_usd " + money(aggregate.costUsd()) + " vs log " + money(log.costUsd()));
            }
            return out;
        }

        private static void compare(List<String> out, String column, long aggregate, long log) {
            if (aggregate != log) {
                out.add(column + " " + aggregate + " vs log " + log);
            }
        }
    }

    /** The outcome: every compared row, in table, window and key order. */
    public record Result(List<Row> rows) {
        public long differences() {
            return rows.stream().filter(r -> !r.differences().isEmpty()).count();
        }
    }

    private static final String TOTALS = "events, quantity, input_tokens, output_tokens, cached_input_tokens, "
            + "cache_write_tokens, reasoning_tokens, unpriced_events, cost_usd";

    private UsageAudit() {
    }

    /** The windows starting in [from, to) of {@code grain}: org grain first, then detail grain. */
    public static Result run(Connection c, String org, Instant from, Instant to, Grain grain) throws SQLException {
        Instant start = ceil(from, grain);
        Instant end = ceil(to, grain);
        List<Row> rows = new ArrayList<>();
        rows.addAll(compare(c, grain.orgTable, List.of("feature"), org, start, end, grain));
        rows.addAll(compare(c, grain.detailTable, List.of("user_id", "feature", "provider", "model"), org, start, end, grain));
        return new Result(rows);
    }

    private static List<Row> compare(Connection c, String table, List<String> keys, String org, Instant start,
                                     Instant end, Grain grain) throws SQLException {
        String keyList = String.join(", ", keys);
        // usage_events keeps absent dimensions NULL; the aggregates key them as ''
        String logKeys = String.join(", ", keys.stream().map(k -> "COALESCE(" + k + ", '') AS " + k).toList());
        String sql = "WITH agg AS (SELECT " + keyList + ", window_start, " + TOTALS + " FROM metering." + table
                + " WHERE org_id = ? AND window_start >= ? AND window_start < ?), "
                + "ev AS (SELECT " + logKeys + ", date_trunc('" + grain.sqlUnit() + "', occurred_at AT TIME ZONE 'UTC') "
                + "AT TIME ZONE 'UTC' AS window_start, count(*) AS events, sum(quantity) AS quantity, "
                + "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
                + "sum(cached_input_tokens) AS cached_input_tokens, sum(cache_write_tokens) AS cache_write_tokens, "
                + "sum(reasoning_tokens) AS reasoning_tokens, count(*) FILTER (WHERE NOT priced) AS unpriced_events, "
                + "sum(cost_usd) AS cost_usd, sum(cost_femtos) AS cost_femtos, "
                + "count(cost_femtos) = count(*) AS femtos_complete FROM metering.usage_events WHERE org_id = ? AND occurred_at >= ? "
                + "AND occurred_at < ? GROUP BY " + positions(keys.size() + 1) + ") "
                + "SELECT " + keyList + ", window_start, " + prefixed("a.", TOTALS) + ", " + prefixed("e.", TOTALS)
                + ", e.cost_femtos, e.femtos_complete FROM agg a FULL JOIN ev e USING (" + keyList + ", window_start) ORDER BY window_start, " + keyList;
        List<Row> out = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement(sql)) {
            OffsetDateTime from = start.atOffset(ZoneOffset.UTC);
            OffsetDateTime to = end.atOffset(ZoneOffset.UTC);
            st.setString(1, org);
            st.setObject(2, from);
            st.setObject(3, to);
            st.setString(4, org);
            st.setObject(5, from);
            st.setObject(6, to);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    List<String> key = new ArrayList<>();
                    for (int i = 1; i <= keys.size(); i++) {
                        String v = rs.getString(i);
                        key.add(v == null || v.isEmpty() ? "-" : v);
                    }
                    int at = keys.size() + 2;
                    Totals log = totals(rs, at + 9);
                    if (log != null && rs.getBoolean(at + 19)) {
                        log = log.withExactCost(rs.getBigDecimal(at + 18));
                    }
                    out.add(new Row(table, rs.getObject(keys.size() + 1, OffsetDateTime.class).toInstant(), String.join(" ", key),
                            totals(rs, at), log));
                }
            }
        }
        return out;
    }

    /** "1, 2, ..., n": the select list's first n columns (the keys as coalesced, not the raw columns). */
    private static String positions(int n) {
        StringBuilder s = new StringBuilder("1");
        for (int i = 2; i <= n; i++) {
            s.append(", ").append(i);
        }
        return s.toString();
    }

    private static Totals totals(ResultSet rs, int at) throws SQLException {
        if (rs.getObject(at) == null) {
            return null;
        }
        return new Totals(rs.getLong(at), rs.getLong(at + 1), rs.getLong(at + 2), rs.getLong(at + 3), rs.getLong(at + 4),
                rs.getLong(at + 5), rs.getLong(at + 6), rs.getLong(at + 7), rs.getBigDecimal(at + 8));
    }

    private static String prefixed(String prefix, String columns) {
        StringBuilder s = new StringBuilder();
        for (String col : columns.split(", ")) {
            s.append(s.length() == 0 ? "" : ", ").append(prefix).append(col);
        }
        return s.toString();
    }

    /** The first window start at or after {@code t}. */
    static Instant ceil(Instant t, Grain grain) {
        Instant floor = t.truncatedTo(grain.unit);
        return floor.equals(t) ? t : floor.plus(Duration.of(1, grain.unit));
    }

    /** Prints one line per row and the summary line; returns the number of differing rows. */
    public static long print(Result result, PrintStream out) {
        out.printf("%-16s %-20s %-44s %8s %10s %12s %16s  %s%n", "TABLE", "WINDOW", "KEY", "EVENTS", "QUANTITY", "TOKENS",
                "COST_USD", "RESULT");
        for (Row r : result.rows()) {
            Totals t = r.aggregate() != null ? r.aggregate() : r.log();
            List<String> diff = r.differences();
            out.printf("%-16s %-20s %-44s %8d %10d %12d %16s  %s%n", r.table(), r.windowStart(), r.key(), t.events(),
                    t.quantity(), t.inputTokens() + t.cachedInputTokens() + t.cacheWriteTokens() + t.outputTokens(),
                    money(t.costUsd()), diff.isEmpty() ? "ok" : "DIFF " + String.join(", ", diff));
        }
        long differences = result.differences();
        out.println("audit: " + result.rows().size() + " rows compared, " + differences + " differences");
        return differences;
    }

    static String money(BigDecimal d) {
        return d == null || d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
    }
}
