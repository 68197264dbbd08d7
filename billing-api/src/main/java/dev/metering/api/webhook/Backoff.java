package dev.metering.api.webhook;

import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * When to try a failed delivery again: 5 s after the first attempt, four times longer after each
 * next one, at most 5 h apart, each delay ±20% (jitter, so receivers that come back are not hit
 * by every sender at once); the last retry at 24 h after the delivery's retry window opened.
 */
public final class Backoff {

    static final Duration FIRST = Duration.ofSeconds(5);
    static final Duration MAX_DELAY = Duration.ofHours(5);
    public static final Duration GIVE_UP_AFTER = Duration.ofHours(24);

    private Backoff() {
    }

    /** The delay after failed attempt number {@code attempt} (1-based), before jitter. */
    static Duration base(int attempt) {
        long seconds = FIRST.getSeconds();
        for (int i = 1; i < attempt && seconds < MAX_DELAY.getSeconds(); i++) {
            seconds *= 4;
        }
        return Duration.ofSeconds(Math.min(seconds, MAX_DELAY.getSeconds()));
    }

    /** The next attempt's time, or null when the 24 h window is over (the delivery failed). */
    static Instant next(int attempt, Instant failedAt, Instant retryFrom, RandomGenerator random) {
        Instant deadline = retryFrom.plus(GIVE_UP_AFTER);
        if (!failedAt.isBefore(deadline)) {
            return null;
        }
        long millis = base(attempt).toMillis();
        long jittered = millis + (long) ((random.nextDouble() * 0.4 - 0.2) * millis);
        Instant next = failedAt.plusMillis(jittered);
        return next.isAfter(deadline) ? deadline : next;
    }
}
