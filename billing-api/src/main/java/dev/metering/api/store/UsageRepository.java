package dev.metering.api.store;

import static dev.metering.db.jooq.Tables.CONVERSATION_USAGE;
import static dev.metering.db.jooq.Tables.ORG_USAGE_DAILY;
import static dev.metering.db.jooq.Tables.ORG_USAGE_HOURLY;
import static dev.metering.db.jooq.Tables.ORG_USAGE_LIFETIME;
import static dev.metering.db.jooq.Tables.USAGE_DAILY;
import static dev.metering.db.jooq.Tables.USAGE_HOURLY;
import static dev.metering.db.jooq.Tables.USAGE_LIFETIME;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.sum;

import dev.metering.api.usage.Grain;
import dev.metering.api.usage.UsageReader;
import dev.metering.api.usage.UsageSegment;
import dev.metering.api.usage.UsageTotals;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Select;
import org.jooq.Table;

/**
 * Reads usage totals for a check: one statement per call, a {@code UNION ALL} of one aggregate
 * per segment, each a range scan on (org_id, [feature | user_id], window_start) of the org-grain
 * tables (org scope) or the detail tables (user scope). Rows are the sink's absolute totals.
 * Lifetime segments read the lifetime tables (one row per feature), not a range; a conversation
 * segment reads {@code conversation_usage} (one row per feature of that conversation).
 */
public final class UsageRepository implements UsageReader {

    private final DSLContext dsl;
    private final Map<String, String> sqlByShape;

    public UsageRepository(DSLContext dsl) {
        this(dsl, new ConcurrentHashMap<>());
    }

    private UsageRepository(DSLContext dsl, Map<String, String> sqlByShape) {
        this.dsl = dsl;
        this.sqlByShape = sqlByShape;
    }

    /** The same reader on another context (e.g. {@code tx.dsl()} inside a transaction), sharing the rendered statements. */
    public UsageRepository on(DSLContext other) {
        return new UsageRepository(other, sqlByShape);
    }

    @Override
    public Map<UsageSegment, UsageTotals> totals(String orgId, Set<UsageSegment> segments) {
        List<UsageSegment> list = new ArrayList<>(segments);
        Map<UsageSegment, UsageTotals> out = new HashMap<>();
        list.forEach(s -> out.put(s, UsageTotals.ZERO));
        if (list.isEmpty()) {
            return out;
        }
        // The statement depends only on the segments' shape (grain, user or org, one feature or
        // all): rendered by jOOQ once per shape, then executed as a plain prepared statement, so
        // the hot path pays neither query building nor rendering, and the driver reuses the
        // server-side prepared statement.
        List<Object> binds = binds(orgId, list);
        String sql = sqlByShape.computeIfAbsent(shape(list), k -> {
            Select<? extends Record> q = query(orgId, list);
            if (dsl.extractBindValues(q).size() != binds.size()) {
                throw new IllegalStateException("bind values of the usage query do not match its shape " + k);
            }
            return dsl.render(q);
        });
        return dsl.connectionResult(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < binds.size(); i++) {
                    ps.setObject(i + 1, binds.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        BigDecimal cost = rs.getBigDecimal(7);
                        out.put(list.get(rs.getInt(1)), new UsageTotals(rs.getLong(2), rs.getLong(3), rs.getLong(4),
                                rs.getLong(5), rs.getLong(6), cost == null ? BigDecimal.ZERO : cost, rs.getLong(8)));
                    }
                }
            }
            return out;
        });
    }

    /** The statement and bind values {@link #totals} runs for these segments (to explain it in tests). */
    Map.Entry<String, List<Object>> statement(String orgId, List<UsageSegment> list) {
        return Map.entry(dsl.render(query(orgId, list)), binds(orgId, list));
    }

    /** Per-hour totals of an hourly range (a blocked rolling limit's retry time); hours without usage are absent. */
    @Override
    public Map<Instant, UsageTotals> hourly(String orgId, UsageSegment range) {
        UsageSegment hourly = new UsageSegment(Grain.HOURLY, range.userId(), range.feature(), range.from(), range.to());
        Table<?> t = table(hourly);
        Field<OffsetDateTime> windowStart = t.field("window_start", OffsetDateTime.class);
        Map<Instant, UsageTotals> out = new HashMap<>();
        dsl.select(windowStart, sum(t.field("events", Long.class)), sum(t.field("quantity", Long.class)),
                        sum(t.field("input_tokens", Long.class)), sum(t.field("output_tokens", Long.class)),
                        sum(t.field("cached_input_tokens", Long.class)), sum(t.field("cost_usd", BigDecimal.class)))
                .from(t).where(condition(t, hourly, orgId)).groupBy(windowStart)
                .forEach(r -> out.put(r.value1().toInstant(), new UsageTotals(r.value2().longValue(),
                        r.value3().longValue(), r.value4().longValue(), r.value5().longValue(), r.value6().longValue(),
                        r.value7())));
        return out;
    }

    private static String shape(List<UsageSegment> list) {
        StringBuilder b = new StringBuilder(list.size() * 4);
        for (UsageSegment s : list) {
            b.append(s.grain() == Grain.HOURLY ? 'h' : s.grain() == Grain.DAILY ? 'd' : 'l')
                    .append(s.conversationId() != null ? 'c' : s.userId() == null ? 'o' : 'u')
                    .append(s.feature() == null ? 'a' : 'f').append(',');
        }
        return b.toString();
    }

    /** Bind values in the order {@link #part} renders them: org, from, to, [user], [conversation], [feature]. */
    private static List<Object> binds(String orgId, List<UsageSegment> list) {
        List<Object> binds = new ArrayList<>(list.size() * 5);
        for (UsageSegment s : list) {
            binds.add(orgId);
            if (s.grain() != Grain.LIFETIME) {
                binds.add(s.from().atOffset(ZoneOffset.UTC));
                binds.add(s.to().atOffset(ZoneOffset.UTC));
            }
            if (s.userId() != null) {
                binds.add(s.userId());
            }
            if (s.conversationId() != null) {
                binds.add(s.conversationId());
            }
            if (s.feature() != null) {
                binds.add(s.feature());
            }
        }
        return binds;
    }

    private static Select<? extends Record> query(String orgId, List<UsageSegment> list) {
        Select<? extends Record> query = null;
        for (int i = 0; i < list.size(); i++) {
            Select<? extends Record> part = part(i, list.get(i), orgId);
            query = query == null ? part : query.unionAll((Select) part);
        }
        return query;
    }

    /** The table holding a segment's grain (shared with the alert detector's batched read). */
    public static Table<?> table(UsageSegment s) {
        if (s.conversationId() != null) {
            return CONVERSATION_USAGE;
        }
        return s.userId() == null
                ? (s.grain() == Grain.HOURLY ? ORG_USAGE_HOURLY : s.grain() == Grain.DAILY ? ORG_USAGE_DAILY : ORG_USAGE_LIFETIME)
                : (s.grain() == Grain.HOURLY ? USAGE_HOURLY : s.grain() == Grain.DAILY ? USAGE_DAILY : USAGE_LIFETIME);
    }

    private static Condition condition(Table<?> t, UsageSegment s, String orgId) {
        Condition c = t.field("org_id", String.class).eq(orgId);
        if (s.grain() != Grain.LIFETIME) {
            Field<OffsetDateTime> windowStart = t.field("window_start", OffsetDateTime.class);
            c = c.and(windowStart.ge(s.from().atOffset(ZoneOffset.UTC)))
                    .and(windowStart.lt(s.to().atOffset(ZoneOffset.UTC)));
        }
        if (s.userId() != null) {
            c = c.and(t.field("user_id", String.class).eq(s.userId()));
        }
        if (s.conversationId() != null) {
            c = c.and(t.field("conversation_id", String.class).eq(s.conversationId()));
        }
        if (s.feature() != null) {
            c = c.and(t.field("feature", String.class).eq(s.feature()));
        }
        return c;
    }

    private static Select<? extends Record> part(int index, UsageSegment s, String orgId) {
        Table<?> t = table(s);
        Condition c = condition(t, s, orgId);
        return org.jooq.impl.DSL.select(
                        inline(index).as("seg"),
                        sum(t.field("events", Long.class)).as("events"),
                        sum(t.field("quantity", Long.class)).as("quantity"),
                        sum(t.field("input_tokens", Long.class)).as("input_tokens"),
                        sum(t.field("output_tokens", Long.class)).as("output_tokens"),
                        sum(t.field("cached_input_tokens", Long.class)).as("cached_input_tokens"),
                        sum(t.field("cost_usd", BigDecimal.class)).as("cost_usd"),
                        // the lifetime tables keep no cache-write count (V5's triggers predate price book v2)
                        (t.field("cache_write_tokens") == null ? inline(0L).as("cache_write_tokens")
                                : sum(t.field("cache_write_tokens", Long.class)).as("cache_write_tokens")))
                .from(t)
                .where(c);
    }

}
