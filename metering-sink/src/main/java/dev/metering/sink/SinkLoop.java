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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.CloseOptions;
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
 * The sink's consumer loop: poll into a batch until it is full or old enough, decode it, hand it
 * to the writer thread, which writes it to PostgreSQL in one transaction; once that transaction
 * committed, this thread commits the batch's offsets. While batch N is being written, batch N+1 is
 * polled and decoded (at most ONE batch in the database at a time and one more polled; when that
 * one is full, the partitions are paused until the writer is free). The consumer is used by this
 * thread only; {@link #shutdown()} may be called from any thread.
 *
 * <p>Guarantee: every record of {@code metering.usage.aggregates} and {@code metering.usage.dlq}
 * is in the database before its offset is committed (at-least-once delivery into an idempotent
 * write: exact totals). A crash anywhere re-delivers at most the uncommitted batch; writing it
 * again changes nothing (monotonic version guard, ON CONFLICT DO NOTHING).
 */
final class SinkLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(SinkLoop.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(500);
    /** The longest poll while a batch is in flight, so its offsets are committed soon after it is written. */
    private static final Duration IN_FLIGHT_POLL = Duration.ofMillis(5);
    /** While paused (the next batch is full): how long to wait for the writer between two polls. */
    private static final Duration BACKPRESSURE_WAIT = Duration.ofMillis(100);
    /** On shutdown, how long a batch in flight may take to reach the database. */
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(20);

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
                    Duration heartbeatInterval, List<String> extraTopics) {

        Settings(String aggregatesTopic, String deadLetterTopic, int batchSize, Duration batchLinger,
                 Duration backoffInitial, Duration backoffMax, int permanentFailureRetries, Duration heartbeatInterval) {
            this(aggregatesTopic, deadLetterTopic, batchSize, batchLinger, backoffInitial, backoffMax,
                    permanentFailureRetries, heartbeatInterval, List.of());
        }

        /** Every topic the loop subscribes to: aggregates, dead letters, and e.g. the priced events. */
        List<String> topics() {
            List<String> all = new java.util.ArrayList<>(List.of(aggregatesTopic, deadLetterTopic));
            all.addAll(extraTopics);
            return all;
        }
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
    /** The batch being polled (not yet handed to the writer). */
    private Batch batch = new Batch();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Throwable failure;
    /** The decoded form of {@link #batch}; null whenever the raw batch changed. */
    private PreparedBatch prepared;
    /** The batch the writer thread is writing, or null. */
    private InFlight inFlight;
    /** Partitions this loop paused (writer busy and next batch full, or decoding to be retried). */
    private final Set<TopicPartition> pausedByLoop = new HashSet<>();
    /** A failed decode (schema registry away) is tried again at this System.nanoTime(). */
    private long decodeNotBefore = System.nanoTime();
    private int decodeAttempts;
    /** How long decoding {@link #prepared} took (counted in the batch's write time). */
    private long decodeNanos;
    private final ExecutorService writerThread = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "metering-sink-writer");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * A batch handed to the writer thread: its raw records (offsets), decoded form and outcome;
     * {@code startedNanos} is the hand-off time minus the decoding time.
     */
    private record InFlight(Batch batch, PreparedBatch prepared, long startedNanos, Future<SinkWriter.Result> result) {
    }
    /** The sink clock's time of the last heartbeat check; null before the first. */
    private Instant lastHeartbeatCheck;
    /** How often {@link #writtenOffsets()} is brought up to date. */
    private static final long PUBLISH_WRITTEN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private long writtenPublishedNanos = System.nanoTime() - PUBLISH_WRITTEN_NANOS;
    /** Per assigned aggregates partition: every offset below it is in the database. */
    private volatile Map<TopicPartition, Long> written = Map.of();

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
            consumer.subscribe(settings.topics(), new Rebalance());
            while (running) {
                completeInFlight();
                publishWritten();
                handOffIfDue();
                if (batch.size() >= settings.batchSize() && (inFlight != null || decodeDeferred())) {
                    // the writer is busy (or decoding waits for the registry) and the next batch is
                    // full, decoded already: stop fetching, stay in the group
                    pauseAll();
                    awaitInFlight(BACKPRESSURE_WAIT);
                    hooks.beforePoll(consumer);
                    // every partition paused: only a partition assigned meanwhile can return records
                    add(consumer.poll(inFlight == null ? BACKPRESSURE_WAIT : Duration.ZERO));
                    continue;
                }
                resumeAll();
                Duration wait = batch.isEmpty() ? IDLE_POLL
                        : Duration.ofNanos(Math.max(0, settings.batchLinger().toNanos() - batch.ageNanos()));
                if (inFlight != null) {
                    // come back soon to commit the batch in flight; meanwhile a due batch keeps
                    // filling up to the batch size (no busy loop: at least this long when idle)
                    wait = IN_FLIGHT_POLL;
                } else if (decodeDeferred()) {
                    long deferred = Math.max(0, decodeNotBefore - System.nanoTime());
                    wait = Duration.ofNanos(Math.min(IDLE_POLL.toNanos(), deferred));
                }
                hooks.beforePoll(consumer);
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(wait);
                add(polled);
                metrics.updateLag(consumer);
                if (polled.isEmpty() && batch.isEmpty() && inFlight == null) {
                    heartbeatIfCaughtUp();
                }
                handOffIfDue();
            }
            // shutdown: a batch already in the database gets its offsets committed; the writer stops
            // retrying one that is not; the batch being polled is abandoned uncommitted
            finishInFlightOnShutdown();
        } catch (WakeupException e) {
            if (running) {
                failure = e;
                log.error("sink woken up unexpectedly", e);
            } else {
                // shutdown: the batch being polled is abandoned (its offsets were not committed, so
                // the next owner of its partitions reads it again); the one in flight may finish
                try {
                    finishInFlightOnShutdown();
                } catch (RuntimeException inner) {
                    log.warn("committing the batch in flight on shutdown failed", inner);
                }
            }
        } catch (Throwable e) {
            failure = e;
            log.error("sink stopped by a failure; uncommitted records will be read again on restart", e);
        } finally {
            writerThread.shutdownNow();
            try {
                if (!writerThread.awaitTermination(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    log.warn("writer thread still busy after {}", SHUTDOWN_WAIT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                // leave the group even as a static member: another instance takes the partitions now
                consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                        .withTimeout(Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
                log.warn("closing the consumer failed", e);
            }
            writer.close();
            stopped.countDown();
        }
    }

    /**
     * When the polled batch is full or old enough and the writer is free: decode it and hand it to
     * the writer thread. The guarantee, numbered where it happens:
     * <ol>
     *   <li>the writer writes the batch (window rows, dead letters, late events, sink_progress) in
     *       ONE transaction; a failure rolls all of it back and the writer tries again;</li>
     *   <li>only after that transaction committed does this thread commit the batch's offsets
     *       ({@link #completeInFlight()});</li>
     *   <li>so a crash between 1 and 2 re-delivers the batch, and writing it again changes nothing:
     *       totals are absolute and guarded by version, dead letters are unique per origin.</li>
     * </ol>
     */
    private void handOffIfDue() {
        boolean full = batch.size() >= settings.batchSize();
        if (batch.isEmpty() || decodeDeferred() || (!full && batch.ageNanos() < settings.batchLinger().toNanos())
                || (!full && inFlight != null)) {
            return; // not due; or due but still filling while the writer is busy (decoded when handed off)
        }
        if (prepared == null) {
            // a full batch is decoded while the writer still writes the previous one
            long decoding = System.nanoTime();
            try {
                prepared = decoder.prepare(batch);
                decodeAttempts = 0;
            } catch (RuntimeException e) {
                if (!Failures.isTransient(e)) {
                    throw e;
                }
                // the schema registry is away: keep the batch, keep polling, try again after a backoff
                metrics.retries.labelValues("transient").inc();
                log.warn("batch of {} records not decoded, will retry: {}", batch.size(), Failures.describe(e));
                decodeNotBefore = System.nanoTime() + backoffNanos(decodeAttempts++);
                return;
            }
            decodeNanos = System.nanoTime() - decoding;
        }
        if (inFlight != null) {
            return;
        }
        // (1) the writer thread writes the batch in one transaction, retrying until it commits
        PreparedBatch toWrite = prepared;
        inFlight = new InFlight(batch, toWrite, System.nanoTime() - decodeNanos,
                writerThread.submit(() -> writeWithRetries(toWrite)));
        batch = new Batch();
        prepared = null;
    }

    private boolean decodeDeferred() {
        return System.nanoTime() - decodeNotBefore < 0;
    }

    /** Once the batch in flight is in the database: (2) commit its offsets. */
    private void completeInFlight() {
        if (inFlight == null || !inFlight.result().isDone()) {
            return;
        }
        InFlight done = inFlight;
        inFlight = null;
        SinkWriter.Result result;
        try {
            result = done.result().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the writer thread failed; the batch is not committed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        }
        hooks.afterDatabaseCommit(done.prepared());
        // (2) the database holds the batch: now, and only now, commit the offsets
        long committing = System.nanoTime();
        commitOffsets(owned(done.batch().offsetsToCommit()));
        metrics.commitSeconds.observe((System.nanoTime() - committing) / 1e9);
        metrics.recordBatch(done.prepared(), result, (System.nanoTime() - done.startedNanos()) / 1e9);
        metrics.recordConsumed(countByPartition(done.batch()));
    }

    /** Waits up to {@code timeout} for the batch in flight (not at all when there is none). */
    private void awaitInFlight(Duration timeout) {
        if (inFlight == null) {
            return;
        }
        try {
            inFlight.result().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // still writing, or failed: completeInFlight() reports a failure
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        }
    }

    /**
     * Shutdown ({@link #running} is false, so the writer retries no more): a batch whose transaction
     * committed still gets its offsets committed; one that did not is abandoned, read again on restart.
     */
    private void finishInFlightOnShutdown() {
        if (inFlight == null) {
            return;
        }
        try {
            inFlight.result().get(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("batch in flight not written within {}; abandoned uncommitted", SHUTDOWN_WAIT);
            return;
        } catch (ExecutionException e) {
            log.info("batch in flight abandoned uncommitted: {}", e.getCause().toString());
            inFlight = null;
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        completeInFlight();
    }

    /**
     * The offsets of partitions still assigned. A partition revoked while its batch was in flight
     * belongs to its new owner now, which reads it from the last committed offset (the batch is
     * written again, changing nothing).
     */
    private Map<TopicPartition, OffsetAndMetadata> owned(Map<TopicPartition, OffsetAndMetadata> offsets) {
        Map<TopicPartition, OffsetAndMetadata> owned = new HashMap<>(offsets);
        owned.keySet().retainAll(consumer.assignment());
        return owned;
    }

    /** Pauses every assigned partition not paused already (a partition paused by others stays theirs). */
    private void pauseAll() {
        Set<TopicPartition> toPause = new HashSet<>(consumer.assignment());
        toPause.removeAll(consumer.paused());
        if (!toPause.isEmpty()) {
            consumer.pause(toPause);
            pausedByLoop.addAll(toPause);
        }
    }

    private void resumeAll() {
        if (pausedByLoop.isEmpty()) {
            return;
        }
        Set<TopicPartition> toResume = new HashSet<>(pausedByLoop);
        toResume.retainAll(consumer.assignment());
        consumer.resume(toResume);
        pausedByLoop.clear();
    }

    /**
     * Per assigned aggregates partition, the offset below which every record is in the database;
     * safe from any thread ({@link PipelineWatch} reads it). A partition this sink has not yet
     * positioned is absent.
     */
    Map<TopicPartition, Long> writtenOffsets() {
        return written;
    }

    /**
     * Records before the consumer's position are in the batch being polled, in the batch in flight,
     * or written (batches are written in order); so a partition's first offset in those two
     * batches, else its position, bounds what is written. At most every 100 ms; position is local
     * once known, a partition whose position is not known yet is left out.
     */
    private void publishWritten() {
        long now = System.nanoTime();
        if (now - writtenPublishedNanos < PUBLISH_WRITTEN_NANOS) {
            return;
        }
        writtenPublishedNanos = now;
        Map<TopicPartition, Long> out = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            if (!tp.topic().equals(settings.aggregatesTopic())) {
                continue;
            }
            Long first = batch.firstOffset(tp);
            Long flying = inFlight == null ? null : inFlight.batch().firstOffset(tp);
            if (first != null || flying != null) {
                out.put(tp, flying != null ? flying : first);
                continue;
            }
            try {
                out.put(tp, consumer.position(tp, Duration.ZERO));
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                // position not known yet (being fetched): left out until it is
            }
        }
        written = Map.copyOf(out);
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

    /**
     * On the writer thread: writes the batch until its transaction commits. Transient failures
     * (database away) are retried forever with backoff; after repeated permanent failures the batch
     * is written record by record (a refused window update becomes a dead letter). Meanwhile the
     * polling thread keeps the consumer in its group, its partitions paused once the next batch is
     * full. Shutdown ends the retries: the batch is then abandoned uncommitted.
     */
    private SinkWriter.Result writeWithRetries(PreparedBatch batch) throws InterruptedException {
        int attempt = 0;
        int permanentFailures = 0;
        while (true) {
            try {
                return permanentFailures > settings.permanentFailureRetries()
                        ? writer.writeIsolating(batch)
                        : writer.write(batch);
            } catch (RuntimeException e) {
                if (Failures.isTransient(e)) {
                    metrics.retries.labelValues("transient").inc();
                    log.warn("batch of {} records not written, will retry: {}", batch.records(), Failures.describe(e));
                } else {
                    permanentFailures++;
                    metrics.retries.labelValues("permanent").inc();
                    if (permanentFailures > settings.permanentFailureRetries() + 1) {
                        // the record-by-record path itself failed for good: a broken schema or a bug,
                        // not bad data; keep the records (no commit) and keep trying, loudly
                        log.error("batch cannot be written even record by record; retrying", e);
                    } else {
                        log.warn("batch of {} records refused by the database ({}); attempt {} of {} before "
                                        + "writing record by record", batch.records(), Failures.describe(e),
                                permanentFailures, settings.permanentFailureRetries() + 1);
                    }
                }
                long deadline = System.nanoTime() + backoffNanos(attempt++);
                long remaining;
                while ((remaining = deadline - System.nanoTime()) > 0) {
                    if (!running) {
                        throw new InterruptedException("shutdown: batch abandoned uncommitted");
                    }
                    TimeUnit.NANOSECONDS.sleep(Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(50)));
                }
            }
        }
    }

    private long backoffNanos(int attempt) {
        return TimeUnit.MILLISECONDS.toNanos(Math.min(settings.backoffMax().toMillis(),
                settings.backoffInitial().toMillis() * (1L << Math.min(attempt, 20))));
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

    private static Map<TopicPartition, Long> countByPartition(Batch batch) {
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
            pausedByLoop.removeAll(partitions);
            if (batch.removePartitions(partitions)) {
                prepared = null;
                log.info("dropped uncommitted records of revoked partitions {}", partitions);
            }
        }
    }
}
