package dev.metering.api.alert;

import dev.metering.api.store.UsageRepository;
import dev.metering.api.usage.Grain;
import dev.metering.api.usage.UsageReader;
import dev.metering.api.usage.UsageSegment;
import dev.metering.api.usage.UsageTotals;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.jooq.Table;

/**
 * Usage of many orgs for one detection pass, read with one statement per usage table however many
 * orgs and segments: a first evaluation with {@link #collecting} names the segments the limit
 * evaluation needs (the check's own decomposition, so both read the same rows), {@link #fetch}
 * reads them all, and {@link #reader} answers the second evaluation from memory.
 */
final class UsageBatch {

    private record Key(String orgId, UsageSegment segment) {
    }

    private final Map<Key, UsageTotals> totals = new LinkedHashMap<>();

    /** A reader that records what it is asked and answers zeros. */
    UsageReader collecting() {
        return (orgId, segments) -> {
            Map<UsageSegment, UsageTotals> out = new HashMap<>();
            for (UsageSegment s : segments) {
                totals.putIfAbsent(new Key(orgId, s), UsageTotals.ZERO);
                out.put(s, UsageTotals.ZERO);
            }
            return out;
        };
    }

    /** Reads every collected segment: one statement per table they touch. */
    void fetch(DSLContext dsl) {
        Map<Table<?>, List<Key>> byTable = new LinkedHashMap<>();
        for (Key k : totals.keySet()) {
            byTable.computeIfAbsent(UsageRepository.table(k.segment()), t -> new ArrayList<>()).add(k);
        }
        if (byTable.isEmpty()) {
            return;
        }
        dsl.connection(c -> {
            for (Map.Entry<Table<?>, List<Key>> e : byTable.entrySet()) {
                Table<?> t = e.getKey();
                List<Key> keys = e.getValue();
                int n = keys.size();
                Object[] orgs = new Object[n];
                Object[] froms = new Object[n];
                Object[] tos = new Object[n];
                Object[] subjects = new Object[n];
                Object[] features = new Object[n];
                for (int i = 0; i < n; i++) {
                    UsageSegment s = keys.get(i).segment();
                    orgs[i] = keys.get(i).orgId();
                    froms[i] = s.from().toString();
                    tos[i] = s.to().toString();
                    subjects[i] = s.conversationId() != null ? s.conversationId() : s.userId();
                    features[i] = s.feature();
                }
                Array a1 = c.createArrayOf("text", orgs);
                Array a2 = c.createArrayOf("text", froms);
                Array a3 = c.createArrayOf("text", tos);
                Array a4 = c.createArrayOf("text", subjects);
                Array a5 = c.createArrayOf("text", features);
                try (PreparedStatement ps = c.prepareStatement(sql(dsl, t, keys.get(0).segment()))) {
                    ps.setArray(1, a1);
                    ps.setArray(2, a2);
                    ps.setArray(3, a3);
                    ps.setArray(4, a4);
                    ps.setArray(5, a5);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            BigDecimal cost = rs.getBigDecimal(7);
                            totals.put(keys.get(rs.getInt(1) - 1), new UsageTotals(rs.getLong(2), rs.getLong(3),
                                    rs.getLong(4), rs.getLong(5), rs.getLong(6), cost == null ? BigDecimal.ZERO : cost,
                                    rs.getLong(8)));
                        }
                    }
                }
            }
        });
    }

    /** Answers from what {@link #fetch} read; a segment not collected is an error, not a zero. */
    UsageReader reader() {
        return (orgId, segments) -> {
            Map<UsageSegment, UsageTotals> out = new LinkedHashMap<>();
            for (UsageSegment s : segments) {
                UsageTotals t = totals.get(new Key(orgId, s));
                if (t == null) {
                    throw new IllegalStateException("usage of " + orgId + " " + s + " was not read");
                }
                out.put(s, t);
            }
            return out;
        };
    }

    /**
     * One aggregate per requested segment (its 1-based position), each an index range scan of the
     * same conditions as the check's statement (a lateral subquery per segment, never a join
     * the planner could turn into a scan of the whole table).
     */
    private static String sql(DSLContext dsl, Table<?> t, UsageSegment sample) {
        StringBuilder where = new StringBuilder("u.org_id = q.org");
        if (sample.grain() != Grain.LIFETIME) {
            where.append(" AND u.window_start >= q.f AND u.window_start < q.t");
        }
        if (sample.conversationId() != null) {
            where.append(" AND u.conversation_id = q.subject");
        } else if (sample.userId() != null) {
            where.append(" AND u.user_id = q.subject");
        }
        where.append(" AND (q.feature IS NULL OR u.feature = q.feature)");
        String cacheWrite = t.field("cache_write_tokens") == null ? "0" : "coalesce(sum(u.cache_write_tokens), 0)";
        return "SELECT q.i, s.* FROM unnest(?::text[], ?::text[]::timestamptz[], ?::text[]::timestamptz[], ?::text[], ?::text[]) "
                + "WITH ORDINALITY AS q(org, f, t, subject, feature, i) CROSS JOIN LATERAL (SELECT "
                + "coalesce(sum(u.events), 0), coalesce(sum(u.quantity), 0), coalesce(sum(u.input_tokens), 0), "
                + "coalesce(sum(u.output_tokens), 0), coalesce(sum(u.cached_input_tokens), 0), sum(u.cost_usd), "
                + cacheWrite + " FROM " + dsl.render(t) + " u WHERE " + where + ") s";
    }
}
