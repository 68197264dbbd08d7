package dev.metering.api.ratelimit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket of {@code burst} tokens refilled at {@code perSecond}, kept as one number: the
 * time at which the bucket will be full again (the GCRA form of a token bucket), so a take is one
 * compare-and-set, and a bucket that is full is indistinguishable from a new one (it can be dropped).
 * Times are nanoseconds on the caller's clock.
 */
public final class TokenBucket {

    private final long nanosPerToken;
    private final long capacityNanos;
    /** When the bucket is full again; at or before now: full. */
    private final AtomicLong fullAt;

    /** A full bucket of {@code burst} tokens gaining {@code tokens} every {@code period}. */
    public TokenBucket(long tokens, Duration period, long burst, long nowNanos) {
        if (tokens < 1 || burst < 1 || period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("tokens, period and burst must be positive");
        }
        this.nanosPerToken = Math.max(1, period.toNanos() / tokens);
        this.capacityNanos = Math.multiplyExact(nanosPerToken, burst);
        this.fullAt = new AtomicLong(nowNanos);
    }

    /**
     * Takes a token: 0 when there was one, else the nanoseconds until there will be one (nothing is
     * taken then).
     */
    public long take(long nowNanos) {
        while (true) {
            long full = fullAt.get();
            long next = Math.max(full, nowNanos) + nanosPerToken;
            long excess = next - nowNanos - capacityNanos;
            if (excess > 0) {
                return excess;
            }
            if (fullAt.compareAndSet(full, next)) {
                return 0;
            }
        }
    }

    /** Nanoseconds until a token is available without taking one; 0 when there is one now. */
    public long waitNanos(long nowNanos) {
        long excess = Math.max(fullAt.get(), nowNanos) + nanosPerToken - nowNanos - capacityNanos;
        return Math.max(0, excess);
    }

    /** Full at this time: holds nothing a new bucket would not. */
    public boolean isFull(long nowNanos) {
        return fullAt.get() <= nowNanos;
    }
}
