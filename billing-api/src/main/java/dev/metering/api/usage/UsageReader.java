package dev.metering.api.usage;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/** Reads the totals of a set of segments of one org, ideally in one round trip. */
@FunctionalInterface
public interface UsageReader {
    /** Every requested segment is in the result; segments without rows map to {@link UsageTotals#ZERO}. */
    Map<UsageSegment, UsageTotals> totals(String orgId, Set<UsageSegment> segments);

    /**
     * The totals of each hour of an hourly {@code range} that has usage, by window start; null when
     * this reader cannot tell (callers then assume the worst).
     */
    default Map<Instant, UsageTotals> hourly(String orgId, UsageSegment range) {
        return null;
    }
}
