package dev.metering.sink;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves {@code sink_progress.usage_as_of} of this sink's aggregates partitions to a time T only
 * once every event appended to the events topic before T has been processed by metering-streams
 * AND its results in that partition are written by this sink. Each {@link #tick()}:
 * <ol>
 *   <li>at T (the clock read first) the events topic's end offsets E are noted (a snapshot);</li>
 *   <li>once the streams application's committed offsets on the events topic reach E, the end
 *       offsets R of its repartition topics are noted, and once its committed offsets reach R too,
 *       streams has caught up to T ({@code streams_as_of}); then, once the emission delay has
 *       passed, the aggregates end offsets A (high watermark) are noted. Streams runs
 *       exactly_once_v2 and emits the rows an input changed at its next emission (every commit
 *       interval), in the transaction after the one that committed the input: the delay (two
 *       commit intervals and a margin) covers that, so every output of an event before T is below A;</li>
 *   <li>once the sink has written every record below A of a partition ({@link SinkLoop#writtenOffsets()}),
 *       that partition's {@code usage_as_of} becomes T.</li>
 * </ol>
 * Committed offsets and end offsets only grow, so comparing values read at different moments only
 * delays a claim, never makes it false. If streams is down, in ERROR or behind, or the sink is,
 * nothing moves and billing-api reports usage stale once T is older than its staleness bound.
 * Not thread-safe: one thread ticks.
 */
final class PipelineWatch {

    private static final Logger log = LoggerFactory.getLogger(PipelineWatch.class);
    /** Snapshots waiting at one stage; the oldest go first (dropping one only delays progress). */
    static final int MAX_WAITING = 128;
    private static final Duration TOPIC_REFRESH = Duration.ofSeconds(60);

    /** What the watch asks the broker (Kafka's Admin client in production). */
    interface Broker extends AutoCloseable {
        /** Every partition of these topics with its end offset: last stable offset if {@code stableOnly}, else high watermark. */
        Map<TopicPartition, Long> endOffsets(Collection<String> topics, boolean stableOnly);

        /** The group's committed offsets (partitions without one are absent). */
        Map<TopicPartition, Long> committedOffsets(String groupId);

        /** Names of the topics whose name starts with {@code prefix}. */
        Set<String> topicsStartingWith(String prefix);

        @Override
        void close();
    }

    /** Where the watch records its progress ({@code sink_progress} in production). */
    interface Store {
        /**
         * Moves {@code usage_as_of} of these partitions and {@code streams_as_of} (may be null) of
         * every partition in {@code owned} forward, never back; returns the partitions whose
         * {@code usage_as_of} it recorded (a partition without a progress row yet is tried again).
         */
        Set<TopicPartition> record(Map<TopicPartition, Instant> usageAsOf, Instant streamsAsOf, Set<TopicPartition> owned);
    }

    /** {@code since}: when it reached its current stage (for the sink stage: since when the sink owes it). */
    private record Snapshot(Instant at, Map<TopicPartition, Long> ends, Instant since) {
    }

    private final Broker broker;
    private final Store store;
    private final Supplier<Map<TopicPartition, Long>> written;
    private final String eventsTopic;
    private final String aggregatesTopic;
    private final String streamsApplicationId;
    private final Duration maxStaleness;
    private final Clock clock;
    private final SinkMetrics metrics;
    private final Instant startedAt;

    private final Deque<Snapshot> waitingForEvents = new ArrayDeque<>();
    private final Deque<Snapshot> waitingForRepartition = new ArrayDeque<>();
    private final Deque<Snapshot> waitingForEmission = new ArrayDeque<>();
    private final Deque<Snapshot> waitingForSink = new ArrayDeque<>();
    private final Duration emissionDelay;
    private Set<String> repartitionTopics = Set.of();
    private Instant topicsReadAt;
    private Instant streamsAsOf;
    private final Map<TopicPartition, Instant> usageAsOf = new HashMap<>();
    private Instant recordedStreamsAsOf;
    private final Map<TopicPartition, Instant> recorded = new HashMap<>();
    private boolean streamsStalled;
    private boolean sinkStalled;
    private boolean failing;

    PipelineWatch(Broker broker, Store store, Supplier<Map<TopicPartition, Long>> written, String eventsTopic,
                  String aggregatesTopic, String streamsApplicationId, Duration maxStaleness, Duration emissionDelay,
                  Clock clock, SinkMetrics metrics) {
        this.emissionDelay = Objects.requireNonNull(emissionDelay);
        this.broker = Objects.requireNonNull(broker);
        this.store = Objects.requireNonNull(store);
        this.written = Objects.requireNonNull(written);
        this.eventsTopic = Objects.requireNonNull(eventsTopic);
        this.aggregatesTopic = Objects.requireNonNull(aggregatesTopic);
        this.streamsApplicationId = Objects.requireNonNull(streamsApplicationId);
        this.maxStaleness = Objects.requireNonNull(maxStaleness);
        this.clock = Objects.requireNonNull(clock);
        this.metrics = Objects.requireNonNull(metrics);
        this.startedAt = clock.instant();
    }

    /**
     * One round: a new snapshot, every stage moved as far as the broker and the sink allow, the
     * progress recorded when it moved. A failure (broker or database away) is logged once, counted,
     * and leaves the snapshots for the next round.
     */
    void tick() {
        Instant now = clock.instant();
        try {
            advance(now);
            if (failing) {
                failing = false;
                log.info("pipeline watch works again");
            }
        } catch (RuntimeException e) {
            metrics.pipelineWatchFailures.inc();
            if (!failing) {
                failing = true;
                log.warn("pipeline watch failed, usage_as_of does not move until it works again: {}", e.toString());
            }
        }
        reportStalls(now);
    }

    private void advance(Instant now) {
        // (1) T = now, read before the end offsets: an event appended meanwhile only makes the claim conservative
        Map<TopicPartition, Long> events = broker.endOffsets(List.of(eventsTopic), true);
        offer(waitingForEvents, new Snapshot(now, events, now));
        Map<TopicPartition, Long> committed = broker.committedOffsets(streamsApplicationId);
        metrics.streamsInputLag.set(lag(events, committed));

        // (2) streams: the events topic, then the repartition topics it feeds itself
        Snapshot reached = takeLatestReached(waitingForEvents, committed);
        if (reached != null) {
            Set<String> internal = repartitionTopics(now);
            Map<TopicPartition, Long> ends = internal.isEmpty() ? Map.of() : broker.endOffsets(internal, false);
            offer(waitingForRepartition, new Snapshot(reached.at(), ends, now));
            if (!ends.isEmpty()) {
                committed = broker.committedOffsets(streamsApplicationId);
            }
        }
        reached = takeLatestReached(waitingForRepartition, committed);
        if (reached != null) {
            streamsAsOf = reached.at();
            offer(waitingForEmission, new Snapshot(reached.at(), Map.of(), now));
        }
        Snapshot emitted = null;
        while (!waitingForEmission.isEmpty() && !now.isBefore(waitingForEmission.peekFirst().since().plus(emissionDelay))) {
            emitted = waitingForEmission.removeFirst();
        }
        if (emitted != null) {
            offer(waitingForSink, new Snapshot(emitted.at(), broker.endOffsets(List.of(aggregatesTopic), false), now));
        }

        // (3) the sink: per partition it owns, the latest snapshot whose aggregates ends it has written
        Map<TopicPartition, Long> writtenNow = written.get();
        for (Map.Entry<TopicPartition, Long> w : writtenNow.entrySet()) {
            for (Snapshot s : waitingForSink) {
                Long end = s.ends().get(w.getKey());
                if (end != null && w.getValue() >= end) {
                    usageAsOf.merge(w.getKey(), s.at(), (a, b) -> a.isAfter(b) ? a : b);
                }
            }
        }
        usageAsOf.keySet().retainAll(writtenNow.keySet());
        Instant oldest = oldest(usageAsOf, writtenNow.keySet());
        if (oldest != null) {
            waitingForSink.removeIf(s -> !s.at().isAfter(oldest));
        }
        record(writtenNow.keySet());
    }

    private void record(Set<TopicPartition> owned) {
        Map<TopicPartition, Instant> changed = new HashMap<>();
        usageAsOf.forEach((tp, at) -> {
            if (!at.equals(recorded.get(tp))) {
                changed.put(tp, at);
            }
        });
        boolean streamsMoved = streamsAsOf != null && !streamsAsOf.equals(recordedStreamsAsOf);
        if (changed.isEmpty() && !streamsMoved) {
            return;
        }
        Set<TopicPartition> done = store.record(changed, streamsAsOf, owned);
        changed.forEach((tp, at) -> {
            if (done.contains(tp)) {
                recorded.put(tp, at);
            }
        });
        recordedStreamsAsOf = streamsAsOf;
    }

    /** Metrics, and one log line when a stage starts lagging beyond the staleness bound and when it is back. */
    private void reportStalls(Instant now) {
        Duration streamsAge = Duration.between(streamsAsOf == null ? startedAt : streamsAsOf, now);
        metrics.streamsProgressAge.set(streamsAsOf == null ? -1 : streamsAge.toMillis() / 1000.0);
        Set<TopicPartition> owned = written.get().keySet();
        Instant usage = oldest(usageAsOf, owned);
        metrics.usageProgressAge.set(usage == null ? -1 : Duration.between(usage, now).toMillis() / 1000.0);
        boolean streamsLate = streamsAge.compareTo(maxStaleness) > 0;
        if (streamsLate != streamsStalled) {
            streamsStalled = streamsLate;
            if (streamsLate) {
                log.warn("STALLED: streams application '{}' has not processed the events appended since {} "
                                + "(more than {} ago; input lag {} records): usage is stale until it catches up",
                        streamsApplicationId, streamsAsOf == null ? "this sink started" : streamsAsOf, maxStaleness,
                        (long) metrics.streamsInputLag.get());
            } else {
                log.info("RECOVERED: streams application '{}' caught up with the events appended before {}",
                        streamsApplicationId, streamsAsOf);
            }
        }
        // the sink is late when streams' outputs of a snapshot have waited for it longer than the bound
        Snapshot owed = waitingForSink.peekFirst();
        boolean sinkLate = !streamsLate && !owned.isEmpty() && owed != null
                && Duration.between(owed.since(), now).compareTo(maxStaleness) > 0;
        if (sinkLate != sinkStalled) {
            sinkStalled = sinkLate;
            if (sinkLate) {
                log.warn("STALLED: the sink has not written the aggregates streams produced for the events appended "
                        + "before {} within {}", owed.at(), maxStaleness);
            } else if (!streamsLate) {
                log.info("RECOVERED: the sink wrote the aggregates of every event appended before {}", usage);
            }
        }
    }

    private Set<String> repartitionTopics(Instant now) {
        if (topicsReadAt == null || now.isAfter(topicsReadAt.plus(TOPIC_REFRESH)) || now.isBefore(topicsReadAt)) {
            Set<String> found = new java.util.TreeSet<>();
            for (String topic : broker.topicsStartingWith(streamsApplicationId + "-")) {
                if (topic.endsWith("-repartition")) {
                    found.add(topic);
                }
            }
            repartitionTopics = Set.copyOf(found);
            topicsReadAt = now;
        }
        return repartitionTopics;
    }

    /** Removes and returns the newest waiting snapshot whose every end offset is committed, with all older ones. */
    private static Snapshot takeLatestReached(Deque<Snapshot> waiting, Map<TopicPartition, Long> committed) {
        Snapshot latest = null;
        for (Snapshot s : waiting) {
            if (reached(s.ends(), committed)) {
                latest = s;
            }
        }
        if (latest != null) {
            Iterator<Snapshot> it = waiting.iterator();
            while (it.hasNext()) {
                Snapshot s = it.next();
                it.remove();
                if (s == latest) {
                    break;
                }
            }
        }
        return latest;
    }

    /** An empty partition (end 0) needs no commit; any other needs a committed offset at or past its end. */
    static boolean reached(Map<TopicPartition, Long> ends, Map<TopicPartition, Long> committed) {
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
            if (e.getValue() > 0) {
                Long c = committed.get(e.getKey());
                if (c == null || c < e.getValue()) {
                    return false;
                }
            }
        }
        return true;
    }

    private static long lag(Map<TopicPartition, Long> ends, Map<TopicPartition, Long> committed) {
        long lag = 0;
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
            lag += Math.max(0, e.getValue() - committed.getOrDefault(e.getKey(), 0L));
        }
        return lag;
    }

    private static void offer(Deque<Snapshot> waiting, Snapshot s) {
        if (waiting.size() >= MAX_WAITING) {
            waiting.removeFirst();
        }
        waiting.addLast(s);
    }

    /** The earliest progress over these partitions; null when one of them has none. */
    private static Instant oldest(Map<TopicPartition, Instant> progress, Set<TopicPartition> partitions) {
        Instant oldest = null;
        for (TopicPartition tp : partitions) {
            Instant at = progress.get(tp);
            if (at == null) {
                return null;
            }
            if (oldest == null || at.isBefore(oldest)) {
                oldest = at;
            }
        }
        return oldest;
    }

    /** The latest time streams was known to have caught up (null before the first). */
    Instant streamsAsOf() {
        return streamsAsOf;
    }

    /** Per owned partition, the latest T recorded or about to be. */
    Map<TopicPartition, Instant> usageAsOf() {
        return Map.copyOf(usageAsOf);
    }
}
