package dev.metering.streams;

import java.time.Duration;

/**
 * The wait before replacing a stream thread stopped by a schema registry outage: doubles with
 * each consecutive outage report, up to a maximum, and starts again once the reports stop for
 * longer than twice the maximum (the registry came back in between). Thread-safe.
 */
final class RegistryBackoff {

    private final Duration first;
    private final Duration max;
    private Duration current;
    private long lastReportMillis = Long.MIN_VALUE;

    RegistryBackoff(Duration first, Duration max) {
        this.first = first;
        this.max = max;
    }

    /** The wait for an outage reported at {@code nowMillis}. */
    synchronized Duration next(long nowMillis) {
        if (current == null || nowMillis - lastReportMillis > max.toMillis() * 2) {
            current = first;
        } else {
            Duration doubled = current.multipliedBy(2);
            current = doubled.compareTo(max) > 0 ? max : doubled;
        }
        lastReportMillis = nowMillis;
        return current;
    }
}
