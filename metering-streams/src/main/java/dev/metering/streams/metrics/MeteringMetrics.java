package dev.metering.streams.metrics;

import dev.metering.events.DeadLetterHeaders.Reason;

/**
 * What the stages count. Counters are best-effort observability, not accounting: under
 * exactly-once a transaction that aborts is processed again, and its records are counted twice
 * here (the aggregates, of course, are not).
 */
public interface MeteringMetrics {

    /** A record was read from the events topic; {@code recordTimestamp} feeds the processing lag. */
    void eventIn(long recordTimestamp);

    /** An event was folded into the aggregates. */
    void accepted();

    /** An event was dropped as a duplicate of an (orgId, eventId) already seen. */
    void duplicate();

    /** A record was written to the dead-letter topic. */
    void deadLettered(Reason reason);

    /** An event arrived after its window closed (it is also dead-lettered as LATE). */
    void late();

    /** An accepted event had no price and no fallback. */
    void unpriced();

    /** An event was priced with the fallback rate. */
    void fallbackPriced();

    /** Metrics that count nothing. */
    static MeteringMetrics none() {
        return new MeteringMetrics() {
            @Override
            public void eventIn(long recordTimestamp) {
            }

            @Override
            public void accepted() {
            }

            @Override
            public void duplicate() {
            }

            @Override
            public void deadLettered(Reason reason) {
            }

            @Override
            public void late() {
            }

            @Override
            public void unpriced() {
            }

            @Override
            public void fallbackPriced() {
            }
        };
    }
}
