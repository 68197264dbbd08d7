package dev.metering.sink;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink's consumer loop: poll into a batch until it is full or old enough, write it to
 * PostgreSQL in one transaction, then commit its offsets. One thread runs it; {@link #shutdown()}
 * may be called from any thread.
 *
 * <p>Guarantee: every record of {@code metering.usage.aggregates} and {@code metering.usage.dlq}
 * is in the database before its offset is committed (at-least-once delivery into an idempotent
 * write: exact totals). A crash anywhere re-delivers at most the uncommitted batch; writing it
 * again changes nothing (monotonic version guard, ON CONFLICT DO NOTHING).
 */
final class SinkLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(SinkLoop.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(500);

    /** Test seam: called between the database commit and the offset commit. */
    interface Hooks {
        Hooks NONE = new Hooks() {
        };

        default void afterDatabaseCommit(PreparedBatch batch) {
        }

        /** Before every poll of the main loop, on the loop's thread (e.g. to pause a partition). */
        default void beforePoll(Consumer<byte[], byte[]> consumer) {
        }

        /**
         * After every heartbeat check: when ({@code at}, the sink's clock), the lag per assigned
         * aggregates partition, and whether {@code sink_progress} was moved to {@code at}.
         */
        default void afterHeartbeatCheck(Instant at, Map<TopicPartition, Long> lag, boolean written) {
        }
    }

    /** Batching and retry settings. */
    record Settings(String aggregatesTopic, String deadLetterTopic, int batchSize, Duration batchLinger,
                    Duration backoffInitial, Duration backoffMax, int permanentFailureRetries,
                    Duration heartbeatInterval) {
    }

    /** How long a heartbeat check may wait for the broker (end offsets, positions). */
    private static final Duration HEARTBEAT_BROKER_TIMEOUT = Duration.ofSeconds(5);

    private final Consumer<byte[], byte[]> consumer;
    private final RecordDecoder decoder;
    private final SinkWriter writer;
    private final SinkMetrics metrics;
    private final Settings settings;
    private final Clock clock;
    private final Hooks hooks;
    private final Batch batch = new Batch();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Throwable failure;
    /** The decoded form of {@link #batch}; null whenever the raw batch changed. */
    private PreparedBatch prepared;
    /** The sink clock's time of the last heartbeat check; null before the first. */
    private Instant lastHeartbeatCheck;

    SinkLoop(Consumer<byte[], byte[]> consumer, RecordDecoder decoder, SinkWriter writer, SinkMetrics metrics,
             Settings settings, Clock clock, Hooks hooks) {
        this.consumer = Objects.requireNonNull(consumer);
        this.decoder = Objects.requireNonNull(decoder);
        this.writer = Objects.requireNonNull(writer);
        this.metrics = Objects.requireNonNull(metrics);
        this.settings = Objects.requireNonNull(settings);
        this.clock = Objects.requireNonNull(clock);
        this.hooks = Objects.requireNonNull(hooks);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(settings.aggregatesTopic(), settings.deadLetterTopic()), new Rebalance());
            while (running) {
                Duration wait = batch.isEmpty() ? IDLE_POLL
                        : Duration.ofNanos(Math.max(0, settings.batchLinger().toNanos() - batch.ageNanos()));
                hooks.beforePoll(consumer);
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(wait);
                add(polled);
                metrics.updateLag(consumer);
                if (polled.isEmpty() && batch.isEmpty()) {
                    heartbeatIfCaughtUp();
                }
                if (!batch.isEmpty() && (batch.size() >= settings.batchSize()
                        || batch.ageNanos() >= settings.batchLinger().toNanos())) {
                    flush();
                }
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
                log.error("sink woken up unexpectedly", e);
            }
            // shutdown: a batch not yet in the database is abandoned; its offsets were not
            // committed, so the next owner of its partitions reads it again
        } catch (Throwable e) {
            failure = e;
            log.error("sink stopped by a failure; uncommitted records will be read again on restart", e);
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                log.warn("closing the consumer failed", e);
            }
            writer.close();
            stopped.countDown();
        }
    }

    /**
     * Write the batch, then commit its offsets. This ordering is the sink's guarantee:
     * <ol>
     *   <li>the batch (window rows, dead letters, late events, sink_progress) is written in ONE
     *       transaction; a failure rolls all of it back;</li>
     *   <li>only after that transaction committed are the batch's offsets committed to Kafka;</li>
     *   <li>so a crash between 1 and 2 re-delivers the batch, and writing it again changes nothing:
     *       totals are absolute and guarded by version, dead letters are unique per origin.</li>
     * </ol>
     */
    private void flush() {
        long started = System.nanoTime();
        // (1) one transaction per batch, retried until it commits (or shutdown abandons it)
        SinkWriter.Result result = writeWithRetries();
        if (result == null) {
            return; // every record of the batch belonged to partitions revoked meanwhile
        }
        PreparedBatch written = prepared;
        hooks.afterDatabaseCommit(written);
        // (2) the database holds the batch: now, and only now, commit the offsets
        long committing = System.nanoTime();
        commitOffsets(batch.offsetsToCommit());
        metrics.commitSeconds.observe((System.nanoTime() - committing) / 1e9);
        metrics.recordBatch(written, result, (System.nanoTime() - started) / 1e9);
        metrics.recordConsumed(countByPartition());
        batch.clear();
        prepared = null;
    }

    /**
     * Idle (the poll returned nothing, nothing unwritten in the batch): if every assigned partition
     * of the aggregates topic is caught up, record that in {@code sink_progress} ({@code written_at}
     * = now), so an idle night does not look like a stalled sink. At most once per heartbeat
     * interval of the sink's clock.
     *
     * <p>Caught up means: position == end offset for every such partition, the end offset asked
     * from the broker now (under read_committed it is the last stable offset). {@code currentLag}
     * is not enough: it is the lag of the last fetch response, and a partition not fetched (paused)
     * keeps an old one. {@code now} is read BEFORE the end offsets, so the claim "at {@code now}
     * everything given to the sink was written" holds even if a record arrives during the check.
     * Any lag: no heartbeat (the data then correctly looks stale). A failed check or write is
     * logged and tried again at the next interval; it never stops the sink.
     */
    private void heartbeatIfCaughtUp() {
        Instant now = clock.instant();
        if (lastHeartbeatCheck != null && !now.isBefore(lastHeartbeatCheck)
                && now.isBefore(lastHeartbeatCheck.plus(settings.heartbeatInterval()))) {
            return; // not due; a clock set back makes it due at once
        }
        Set<TopicPartition> partitions = new HashSet<>();
        for (TopicPartition tp : consumer.assignment()) {
            if (tp.topic().equals(settings.aggregatesTopic())) {
                partitions.add(tp);
            }
        }
        if (partitions.isEmpty()) {
            return;
        }
        lastHeartbeatCheck = now;
        Map<TopicPartition, Long> positions = new HashMap<>();
        Map<TopicPartition, Long> lag = new HashMap<>();
        try {
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, HEARTBEAT_BROKER_TIMEOUT);
            for (TopicPartition tp : partitions) {
                long position = consumer.position(tp, HEARTBEAT_BROKER_TIMEOUT);
                Long end = ends.get(tp);
                if (end == null) {
                    throw new KafkaException("no end offset for " + tp);
                }
                positions.put(tp, position);
                lag.put(tp, Math.max(0, end - position));
            }
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            metrics.heartbeats.labelValues("failed").inc();
            log.warn("heartbeat check failed (tried again in {}): {}", settings.heartbeatInterval(), e.toString());
            return;
        }
        boolean caughtUp = lag.values().stream().allMatch(l -> l == 0);
        boolean written = false;
        if (caughtUp) {
            try {
                writer.heartbeat(positions, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
                written = true;
                metrics.heartbeats.labelValues("written").inc();
            } catch (RuntimeException e) {
                metrics.heartbeats.labelValues("failed").inc();
                log.warn("heartbeat not written (tried again in {}): {}", settings.heartbeatInterval(),
                        Failures.describe(e));
            }
        } else {
            metrics.heartbeats.labelValues("lagging").inc();
            log.debug("not caught up, no heartbeat: lag {}", lag);
        }
        hooks.afterHeartbeatCheck(now, Map.copyOf(lag), written);
    }

    private SinkWriter.Result writeWithRetries() {
        int attempt = 0;
        int permanentFailures = 0;
        while (true) {
            try {
                if (prepared == null) {
                    prepared = decoder.prepare(batch);
                }
                return permanentFailures > settings.permanentFailureRetries()
                        ? writer.writeIsolating(prepared)
                        : writer.write(prepared);
            } catch (RuntimeException e) {
                if (Failures.isTransient(e)) {
                    metrics.retries.labelValues("transient").inc();
                    log.warn("batch of {} records not written, will retry: {}", batch.size(), Failures.describe(e));
                } else {
                    permanentFailures++;
                    metrics.retries.labelValues("permanent").inc();
                    if (permanentFailures > settings.permanentFailureRetries() + 1) {
                        // the record-by-record path itself failed for good: a broken schema or a bug,
                        // not bad data; keep the records (no commit) and keep trying, loudly
                        log.error("batch cannot be written even record by record; retrying", e);
                    } else {
                        log.warn("batch of {} records refused by the database ({}); attempt {} of {} before "
                                        + "writing record by record", batch.size(), Failures.describe(e),
                                permanentFailures, settings.permanentFailureRetries() + 1);
                    }
                }
                backoff(attempt++);
                if (batch.isEmpty()) {
                    prepared = null;
                    return null;
                }
            }
        }
    }

    /**
     * Waits before the next attempt without leaving the consumer group: the partitions are paused
     * and the consumer keeps polling (nothing is returned for paused partitions), so a long
     * database outage does not exceed {@code max.poll.interval.ms}. A shutdown interrupts the wait.
     */
    private void backoff(int attempt) {
        long delay = Math.min(settings.backoffMax().toMillis(),
                settings.backoffInitial().toMillis() * (1L << Math.min(attempt, 20)));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
        consumer.pause(consumer.assignment());
        try {
            long remaining;
            while ((remaining = deadline - System.nanoTime()) > 0) {
                if (!running) {
                    throw new WakeupException();
                }
                // partitions assigned by a rebalance during the wait are not paused: keep their records
                add(consumer.poll(Duration.ofNanos(remaining)));
                consumer.pause(consumer.assignment());
            }
        } finally {
            consumer.resume(consumer.paused());
        }
    }

    private void add(ConsumerRecords<byte[], byte[]> records) {
        if (records.isEmpty()) {
            return;
        }
        for (ConsumerRecord<byte[], byte[]> record : records) {
            batch.add(record);
        }
        prepared = null;
    }

    private void commitOffsets(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets);
        } catch (WakeupException e) {
            // shutdown arrived while committing: the batch IS in the database, so store its offsets
            // before leaving (the wakeup is consumed by the exception; this call is not interrupted)
            consumer.commitSync(offsets);
            throw e;
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // the partitions moved on: their new owner re-reads this batch and re-writes it idempotently
            log.warn("offset commit refused after the database commit; the batch will be re-delivered: {}",
                    e.getMessage());
        } catch (KafkaException e) {
            log.warn("offset commit failed after the database commit; the batch may be re-delivered", e);
        }
    }

    private Map<TopicPartition, Long> countByPartition() {
        Map<TopicPartition, Long> counts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : batch.records()) {
            counts.merge(new TopicPartition(r.topic(), r.partition()), 1L, Long::sum);
        }
        return counts;
    }

    /** Asks the loop to stop; safe from any thread (e.g. a SIGTERM shutdown hook). */
    void shutdown() {
        running = false;
        consumer.wakeup();
    }

    boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean isStopped() {
        return stopped.getCount() == 0;
    }

    Throwable failure() {
        return failure;
    }

    /** Partitions taken away drop their uncommitted records: their new owner reads them again. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            drop(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            drop(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            log.info("assigned {}", partitions);
        }

        private void drop(Collection<TopicPartition> partitions) {
            metrics.forgetLag(partitions);
            if (batch.removePartitions(partitions)) {
                prepared = null;
                log.info("dropped uncommitted records of revoked partitions {}", partitions);
            }
        }
    }
}
