package dev.metering.api.store;

import static dev.metering.db.jooq.Tables.ORG_USAGE_DAILY;
import static dev.metering.db.jooq.Tables.ORG_USAGE_HOURLY;
import static dev.metering.db.jooq.Tables.USAGE_DAILY;
import static dev.metering.db.jooq.Tables.USAGE_HOURLY;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.sum;

import dev.metering.api.usage.Grain;
import dev.metering.api.usage.UsageReader;
import dev.metering.api.usage.UsageSegment;
import dev.metering.api.usage.UsageTotals;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 */
public final class UsageRepository implements UsageReader {

    private final DSLContext dsl;

    public UsageRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    @Override
    public Map<UsageSegment, UsageTotals> totals(String orgId, Set<UsageSegment> segments) {
        List<UsageSegment> list = new ArrayList<>(segments);
        Select<? extends Record> query = null;
        for (int i = 0; i < list.size(); i++) {
            Select<? extends Record> part = part(i, list.get(i), orgId);
            query = query == null ? part : query.unionAll((Select) part);
        }
        Map<UsageSegment, UsageTotals> out = new HashMap<>();
        list.forEach(s -> out.put(s, UsageTotals.ZERO));
        if (query == null) {
            return out;
        }
        for (Record r : dsl.fetch(query)) {
            int seg = r.get(0, Integer.class);
            out.put(list.get(seg), new UsageTotals(asLong(r.get(1)), asLong(r.get(2)), asLong(r.get(3)),
                    asLong(r.get(4)), asLong(r.get(5)), r.get(6) == null ? BigDecimal.ZERO : r.get(6, BigDecimal.class)));
        }
        return out;
    }

    private static Select<? extends Record> part(int index, UsageSegment s, String orgId) {
        Table<?> t = s.userId() == null
                ? (s.grain() == Grain.HOURLY ? ORG_USAGE_HOURLY : ORG_USAGE_DAILY)
                : (s.grain() == Grain.HOURLY ? USAGE_HOURLY : USAGE_DAILY);
        Field<OffsetDateTime> windowStart = t.field("window_start", OffsetDateTime.class);
        Condition c = t.field("org_id", String.class).eq(orgId)
                .and(windowStart.ge(s.from().atOffset(ZoneOffset.UTC)))
                .and(windowStart.lt(s.to().atOffset(ZoneOffset.UTC)));
        if (s.userId() != null) {
            c = c.and(t.field("user_id", String.class).eq(s.userId()));
        }
        if (s.feature() != null) {
            c = c.and(t.field("feature", String.class).eq(s.feature()));
        }
        return org.jooq.impl.DSL.select(
                        inline(index).as("seg"),
                        sum(t.field("events", Long.class)).as("events"),
                        sum(t.field("quantity", Long.class)).as("quantity"),
                        sum(t.field("input_tokens", Long.class)).as("input_tokens"),
                        sum(t.field("output_tokens", Long.class)).as("output_tokens"),
                        sum(t.field("cached_input_tokens", Long.class)).as("cached_input_tokens"),
                        sum(t.field("cost_usd", BigDecimal.class)).as("cost_usd"))
                .from(t)
                .where(c);
    }

    private static long asLong(Object v) {
        return v == null ? 0L : ((Number) v).longValue();
    }
}
