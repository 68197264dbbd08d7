package dev.metering.api.usage;

import java.time.Instant;
import java.util.Objects;

/**
 * A time range of one aggregate grain: windows with {@code from <= window_start < to}, of one
 * feature (or all when null), of one user (or the whole org when null). A check reads a small
 * set of these in one round trip.
 */
public record UsageSegment(Grain grain, String userId, String feature, Instant from, Instant to) {
    public UsageSegment {
        Objects.requireNonNull(grain, "grain");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
    }
}
