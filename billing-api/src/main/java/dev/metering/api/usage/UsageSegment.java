package dev.metering.api.usage;

import java.time.Instant;
import java.util.Objects;

/**
 * A time range of one aggregate grain: windows with {@code from <= window_start < to}, of one
 * feature (or all when null), of one user (or the whole org when null); or the lifetime totals of
 * one conversation ({@code conversationId} set, grain LIFETIME). A check reads a small
 * set of these in one round trip.
 */
public record UsageSegment(Grain grain, String userId, String feature, Instant from, Instant to, String conversationId) {
    public UsageSegment {
        Objects.requireNonNull(grain, "grain");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (conversationId != null && (grain != Grain.LIFETIME || userId != null)) {
            throw new IllegalArgumentException("a conversation's totals are lifetime totals of the org's conversation");
        }
    }

    /** A segment of the org's or one user's usage (no conversation). */
    public UsageSegment(Grain grain, String userId, String feature, Instant from, Instant to) {
        this(grain, userId, feature, from, to, null);
    }

    /** One conversation's totals over its whole life. */
    public static UsageSegment conversation(String conversationId, String feature, Instant from, Instant to) {
        return new UsageSegment(Grain.LIFETIME, null, feature, from, to, Objects.requireNonNull(conversationId));
    }
}
