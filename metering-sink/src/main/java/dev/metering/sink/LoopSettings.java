package dev.metering.sink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The sink loop's batching, retry and heartbeat settings. */
record LoopSettings(String aggregatesTopic, String deadLetterTopic, int batchSize, Duration batchLinger,
                    Duration backoffInitial, Duration backoffMax, int permanentFailureRetries,
                    Duration heartbeatInterval, List<String> extraTopics) {

    LoopSettings(String aggregatesTopic, String deadLetterTopic, int batchSize, Duration batchLinger,
                 Duration backoffInitial, Duration backoffMax, int permanentFailureRetries, Duration heartbeatInterval) {
        this(aggregatesTopic, deadLetterTopic, batchSize, batchLinger, backoffInitial, backoffMax,
                permanentFailureRetries, heartbeatInterval, List.of());
    }

    /** Every topic the loop subscribes to: aggregates, dead letters, and e.g. the priced events. */
    List<String> topics() {
        List<String> all = new ArrayList<>(List.of(aggregatesTopic, deadLetterTopic));
        all.addAll(extraTopics);
        return all;
    }

    /** The wait before retry {@code attempt} (from 0): doubling from the initial backoff up to the max. */
    long backoffNanos(int attempt) {
        return TimeUnit.MILLISECONDS.toNanos(Math.min(backoffMax.toMillis(),
                backoffInitial.toMillis() * (1L << Math.min(attempt, 20))));
    }
}
