package dev.metering.api.usage;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Usage rows held in memory the way the sink writes them: hourly and daily windows, detail
 * (per user) and org totals. Recording an event adds it to all four; lifetime segments sum the
 * hourly rows, as the lifetime tables do. Counts reads.
 */
public final class InMemoryUsage implements UsageReader {

    private record Row(Grain grain, String orgId, String userId, String feature, Instant windowStart,
                       UsageTotals totals, String conversationId) {
    }

    private final List<Row> rows = new ArrayList<>();
    private int reads;

    public InMemoryUsage record(String orgId, String userId, String feature, Instant at, long quantity,
                                long inputTokens, long outputTokens, String costUsd) {
        UsageTotals t = new UsageTotals(1, quantity, inputTokens, outputTokens, 0, new BigDecimal(costUsd));
        Instant hour = at.truncatedTo(ChronoUnit.HOURS);
        Instant day = at.truncatedTo(ChronoUnit.DAYS);
        rows.add(new Row(Grain.HOURLY, orgId, userId, feature, hour, t, null));
        rows.add(new Row(Grain.DAILY, orgId, userId, feature, day, t, null));
        return this;
    }

    /** A message in a conversation: counted in the windows and in the conversation's lifetime totals. */
    public InMemoryUsage conversationMessage(String orgId, String userId, String conversationId, Instant at) {
        record(orgId, userId, "CHAT_MESSAGE", at, 1, 0, 0, "0");
        rows.add(new Row(Grain.LIFETIME, orgId, "", "CHAT_MESSAGE", Instant.EPOCH,
                new UsageTotals(1, 1, 0, 0, 0, BigDecimal.ZERO), conversationId));
        return this;
    }

    public InMemoryUsage messages(String orgId, String userId, Instant at, long count) {
        return record(orgId, userId, "CHAT_MESSAGE", at, count, 0, 0, "0");
    }

    public InMemoryUsage cost(String orgId, String feature, Instant at, String costUsd) {
        return record(orgId, "", feature, at, 1, 0, 0, costUsd);
    }

    public int reads() {
        return reads;
    }

    @Override
    public Map<UsageSegment, UsageTotals> totals(String orgId, Set<UsageSegment> segments) {
        reads++;
        Map<UsageSegment, UsageTotals> out = new HashMap<>();
        for (UsageSegment s : segments) {
            UsageTotals t = UsageTotals.ZERO;
            for (Row r : rows) {
                if (s.conversationId() != null || r.conversationId != null) {
                    if (s.conversationId() != null && s.conversationId().equals(r.conversationId) && r.orgId.equals(orgId)
                            && (s.feature() == null || s.feature().equals(r.feature))) {
                        t = t.plus(r.totals);
                    }
                    continue;
                }
                boolean lifetime = s.grain() == Grain.LIFETIME && r.grain == Grain.HOURLY;
                if ((r.grain == s.grain() || lifetime) && r.orgId.equals(orgId)
                        && (s.userId() == null || s.userId().equals(r.userId))
                        && (s.feature() == null || s.feature().equals(r.feature))
                        && (lifetime || !r.windowStart.isBefore(s.from()) && r.windowStart.isBefore(s.to()))) {
                    t = t.plus(r.totals);
                }
            }
            out.put(s, t);
        }
        return out;
    }

    @Override
    public Map<Instant, UsageTotals> hourly(String orgId, UsageSegment range) {
        reads++;
        Map<Instant, UsageTotals> out = new HashMap<>();
        for (Row r : rows) {
            if (r.grain == Grain.HOURLY && r.conversationId == null && r.orgId.equals(orgId)
                    && (range.userId() == null || range.userId().equals(r.userId))
                    && (range.feature() == null || range.feature().equals(r.feature))
                    && !r.windowStart.isBefore(range.from()) && r.windowStart.isBefore(range.to())) {
                out.merge(r.windowStart, r.totals, UsageTotals::plus);
            }
        }
        return out;
    }
}
