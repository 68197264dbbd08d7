package dev.metering.sink;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink's consumer loop: poll into a batch until it is full or old enough ({@link PendingBatch}),
 * decode it, hand it to the writer thread ({@link WriterThread}), which writes it to PostgreSQL in
 * one transaction; once that transaction committed, this thread commits the batch's offsets. While
 * batch N is being written, batch N+1 is polled and decoded (at most ONE batch in the database at a
 * time and one more polled; when that one is full, the partitions are paused until the writer is
 * free). The consumer is used by this thread only; {@link #shutdown()} may be called from any thread.
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

    private final Consumer<byte[], byte[]> consumer;
    private final SinkWriter sinkWriter;
    private final SinkMetrics metrics;
    private final LoopSettings settings;
    private final Hooks hooks;
    private final PendingBatch pending;
    private final WriterThread writer;
    private final Heartbeat heartbeat;
    private final PausedPartitions paused;
    private final WrittenOffsets written;
    private final OffsetCommitter offsets;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Throwable failure;

    SinkLoop(Consumer<byte[], byte[]> consumer, RecordDecoder decoder, SinkWriter writer, SinkMetrics metrics,
             LoopSettings settings, Clock clock, Hooks hooks) {
        this.consumer = Objects.requireNonNull(consumer);
        this.sinkWriter = Objects.requireNonNull(writer);
        this.metrics = Objects.requireNonNull(metrics);
        this.settings = Objects.requireNonNull(settings);
        this.hooks = Objects.requireNonNull(hooks);
        this.pending = new PendingBatch(Objects.requireNonNull(decoder), metrics, settings);
        this.writer = new WriterThread(writer, metrics, settings);
        this.heartbeat = new Heartbeat(consumer, writer, metrics, settings, Objects.requireNonNull(clock), hooks);
        this.paused = new PausedPartitions(consumer);
        this.written = new WrittenOffsets(consumer, settings.aggregatesTopic(), pending, this.writer);
        this.offsets = new OffsetCommitter(consumer);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(settings.topics(), new Rebalance());
            while (running) {
                completeInFlight();
                written.publish();
                handOffIfDue();
                if (pending.isFull() && (writer.busy() || pending.decodeDeferred())) {
                    // the writer is busy (or decoding waits for the registry) and the next batch is
                    // full, decoded already: stop fetching, stay in the group
                    paused.pauseAll();
                    writer.await(BACKPRESSURE_WAIT);
                    hooks.beforePoll(consumer);
                    // every partition paused: only a partition assigned meanwhile can return records
                    pending.add(consumer.poll(writer.busy() ? Duration.ZERO : BACKPRESSURE_WAIT));
                    continue;
                }
                paused.resumeAll();
                Duration wait = pending.isEmpty() ? IDLE_POLL : pending.lingerLeft();
                if (writer.busy()) {
                    // come back soon to commit the batch in flight; meanwhile a due batch keeps
                    // filling up to the batch size (no busy loop: at least this long when idle)
                    wait = IN_FLIGHT_POLL;
                } else if (pending.decodeDeferred()) {
                    wait = Duration.ofNanos(Math.min(IDLE_POLL.toNanos(), pending.decodeDeferredFor().toNanos()));
                }
                hooks.beforePoll(consumer);
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(wait);
                pending.add(polled);
                metrics.updateLag(consumer);
                if (polled.isEmpty() && pending.isEmpty() && !writer.busy()) {
                    heartbeat.checkIfDue();
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
            writer.close();
            try {
                // leave the group even as a static member: another instance takes the partitions now
                consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                        .withTimeout(Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
                log.warn("closing the consumer failed", e);
            }
            sinkWriter.close();
            stopped.countDown();
        }
    }

    /**
     * When the polled batch is full or old enough and the writer is free: decode it and hand it to
     * the writer thread. The guarantee, numbered where it happens:
     * <ol>
     *   <li>the writer writes the batch (window rows, dead letters, late events, sink_progress) in
     *       ONE transaction; a failure rolls all of it back and the writer tries again
     *       ({@link WriterThread#submit});</li>
     *   <li>only after that transaction committed does this thread commit the batch's offsets
     *       ({@link #completeInFlight()});</li>
     *   <li>so a crash between 1 and 2 re-delivers the batch, and writing it again changes nothing:
     *       totals are absolute and guarded by version, dead letters are unique per origin.</li>
     * </ol>
     */
    private void handOffIfDue() {
        if (!pending.decodeIfDue(writer.busy()) || writer.busy()) {
            return; // not due, not decoded yet, or decoded while the writer is still busy
        }
        // (1) the writer thread writes the batch in one transaction, retrying until it commits
        writer.submit(pending.take());
    }

    /** Once the batch in flight is in the database: (2) commit its offsets. */
    private void completeInFlight() {
        WriterThread.Written done = writer.takeIfWritten();
        if (done == null) {
            return;
        }
        hooks.afterDatabaseCommit(done.prepared());
        // (2) the database holds the batch: now, and only now, commit the offsets
        long committing = System.nanoTime();
        offsets.commit(done.batch());
        metrics.commitSeconds.observe((System.nanoTime() - committing) / 1e9);
        metrics.recordBatch(done.prepared(), done.result(), (System.nanoTime() - done.startedNanos()) / 1e9);
        metrics.recordConsumed(done.batch().countByPartition());
    }

    /**
     * Shutdown (after {@link #shutdown()} the writer retries no more): a batch whose transaction
     * committed still gets its offsets committed; one that did not is abandoned, read again on restart.
     */
    private void finishInFlightOnShutdown() {
        if (writer.awaitOnShutdown()) {
            completeInFlight();
        }
    }

    /**
     * Per assigned aggregates partition, the offset below which every record is in the database;
     * safe from any thread ({@link PipelineWatch} reads it). A partition this sink has not yet
     * positioned is absent.
     */
    Map<TopicPartition, Long> writtenOffsets() {
        return written.get();
    }

    /** Asks the loop to stop; safe from any thread (e.g. a SIGTERM shutdown hook). */
    void shutdown() {
        running = false;
        writer.stopRetrying();
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
            paused.forget(partitions);
            if (pending.removePartitions(partitions)) {
                log.info("dropped uncommitted records of revoked partitions {}", partitions);
            }
        }
    }
}
