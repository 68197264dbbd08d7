package dev.metering.streams.metrics;

import dev.metering.events.DeadLetterHeaders.Reason;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;

/**
 * {@link MeteringMetrics} as Prometheus metrics in a registry of its own (not the JVM-wide
 * default, so several topologies in one JVM, as in tests, do not collide):
 * {@code metering_streams_events_in_total}, {@code _accepted_total}, {@code _duplicates_total},
 * {@code _dead_letters_total{reason}}, {@code _late_total}, {@code _unpriced_total},
 * {@code _fallback_priced_total} and {@code metering_streams_processing_lag_seconds} (wall clock
 * minus the timestamp of the last input record read).
 */
public final class PrometheusMeteringMetrics implements MeteringMetrics {

    private final PrometheusRegistry registry;
    private final Clock clock;
    private final Counter eventsIn;
    private final Counter accepted;
    private final Counter duplicates;
    private final Counter deadLetters;
    private final Counter late;
    private final Counter unpriced;
    private final Counter fallbackPriced;
    private final Gauge lag;

    public PrometheusMeteringMetrics(PrometheusRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        eventsIn = Counter.builder().name("metering_streams_events_in_total")
                .help("records read from the usage events topic").register(registry);
        accepted = Counter.builder().name("metering_streams_accepted_total")
                .help("events folded into the aggregates").register(registry);
        duplicates = Counter.builder().name("metering_streams_duplicates_total")
                .help("events dropped as duplicates of (orgId, eventId)").register(registry);
        deadLetters = Counter.builder().name("metering_streams_dead_letters_total")
                .help("records written to the dead-letter topic").labelNames("reason").register(registry);
        late = Counter.builder().name("metering_streams_late_total")
                .help("events after their window closed (dead-lettered as LATE)").register(registry);
        unpriced = Counter.builder().name("metering_streams_unpriced_total")
                .help("accepted events with no price in force and no fallback").register(registry);
        fallbackPriced = Counter.builder().name("metering_streams_fallback_priced_total")
                .help("events priced with the fallback rate").register(registry);
        lag = Gauge.builder().name("metering_streams_processing_lag_seconds")
                .help("wall clock minus the timestamp of the last input record read").register(registry);
        for (Reason r : Reason.values()) {
            deadLetters.labelValues(r.name()); // export zeroes, so rate() works from the start
        }
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    @Override
    public void eventIn(long recordTimestamp) {
        eventsIn.inc();
        lag.set(Math.max(0, clock.millis() - recordTimestamp) / 1000.0);
    }

    @Override
    public void accepted() {
        accepted.inc();
    }

    @Override
    public void duplicate() {
        duplicates.inc();
    }

    @Override
    public void deadLettered(Reason reason) {
        deadLetters.labelValues(reason.name()).inc();
    }

    @Override
    public void late() {
        late.inc();
    }

    @Override
    public void unpriced() {
        unpriced.inc();
    }

    @Override
    public void fallbackPriced() {
        fallbackPriced.inc();
    }

    /** Current value of a counter, for tests and the benchmark: e.g. {@code count("accepted")}. */
    public long count(String what) {
        return switch (what) {
            case "events_in" -> eventsIn.getLongValue();
            case "accepted" -> accepted.getLongValue();
            case "duplicates" -> duplicates.getLongValue();
            case "late" -> late.getLongValue();
            case "unpriced" -> unpriced.getLongValue();
            case "fallback_priced" -> fallbackPriced.getLongValue();
            default -> (long) deadLetters.labelValues(what).get();
        };
    }
}
