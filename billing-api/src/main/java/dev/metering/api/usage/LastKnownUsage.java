package dev.metering.api.usage;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link UsageReader} that remembers, per org, the last totals it read for each segment, so a
 * check can still be answered (flagged stale) while the database is unavailable. Bounded: at most
 * {@code maxOrgs} orgs (an arbitrary one is dropped to make room) and {@value #MAX_SEGMENTS_PER_ORG}
 * segments per org (the org's are dropped when it has more: windows moved on). Remembering costs a
 * few map puts per read.
 */
public final class LastKnownUsage implements UsageReader {

    static final int MAX_SEGMENTS_PER_ORG = 48;

    private final UsageReader database;
    private final int maxOrgs;
    private final ConcurrentHashMap<String, ConcurrentHashMap<UsageSegment, UsageTotals>> byOrg =
            new ConcurrentHashMap<>();

    public LastKnownUsage(UsageReader database, int maxOrgs) {
        this.database = database;
        this.maxOrgs = maxOrgs;
    }

    /** Reads the database and remembers the answer. */
    @Override
    public Map<UsageSegment, UsageTotals> totals(String orgId, Set<UsageSegment> segments) {
        Map<UsageSegment, UsageTotals> totals = database.totals(orgId, segments);
        ConcurrentHashMap<UsageSegment, UsageTotals> known = byOrg.get(orgId);
        if (known == null) {
            if (byOrg.size() >= maxOrgs) {
                Iterator<String> any = byOrg.keySet().iterator();
                if (any.hasNext()) {
                    byOrg.remove(any.next());
                }
            }
            known = byOrg.computeIfAbsent(orgId, k -> new ConcurrentHashMap<>());
        } else if (known.size() + totals.size() > MAX_SEGMENTS_PER_ORG) {
            known.clear();
        }
        known.putAll(totals);
        return totals;
    }

    /** Whether this instance ever read usage of the org (and still remembers it). */
    public boolean knows(String orgId) {
        return byOrg.containsKey(orgId);
    }

    /**
     * The last totals read, without the database: per segment the same segment, else the one read
     * with the same grain, user, feature and start and the latest end (a window that moved on since:
     * it under-counts, like any stale data), else zero.
     */
    public UsageReader lastKnown() {
        return (orgId, segments) -> {
            Map<UsageSegment, UsageTotals> known = byOrg.getOrDefault(orgId, new ConcurrentHashMap<>());
            Map<UsageSegment, UsageTotals> out = new HashMap<>();
            for (UsageSegment s : segments) {
                UsageTotals t = known.get(s);
                if (t == null) {
                    UsageSegment best = null;
                    for (Map.Entry<UsageSegment, UsageTotals> e : known.entrySet()) {
                        UsageSegment k = e.getKey();
                        if (k.grain() == s.grain() && k.from().equals(s.from())
                                && java.util.Objects.equals(k.userId(), s.userId())
                                && java.util.Objects.equals(k.feature(), s.feature())
                                && (best == null || k.to().isAfter(best.to()))) {
                            best = k;
                            t = e.getValue();
                        }
                    }
                }
                out.put(s, t == null ? UsageTotals.ZERO : t);
            }
            return out;
        };
    }
}
