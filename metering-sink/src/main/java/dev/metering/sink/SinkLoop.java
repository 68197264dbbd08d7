package dev.metering.sink;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
    }

    /** Batching and retry settings. */
    record Settings(String aggregatesTopic, String deadLetterTopic, int batchSize, Duration batchLinger,
                    Duration backoffInitial, Duration backoffMax, int permanentFailureRetries) {
    }

    private final Consumer<byte[], byte[]> consumer;
    private final RecordDecoder decoder;
    private final SinkWriter writer;
    private final SinkMetrics metrics;
    private final Settings settings;
    private final Hooks hooks;
    private final Batch batch = new Batch();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Throwable failure;
    /** The decoded form of {@link #batch}; null whenever the raw batch changed. */
    private PreparedBatch prepared;

    SinkLoop(Consumer<byte[], byte[]> consumer, RecordDecoder decoder, SinkWriter writer, SinkMetrics metrics,
             Settings settings, Hooks hooks) {
        this.consumer = Objects.requireNonNull(consumer);
        this.decoder = Objects.requireNonNull(decoder);
        this.writer = Objects.requireNonNull(writer);
        this.metrics = Objects.requireNonNull(metrics);
        this.settings = Objects.requireNonNull(settings);
        this.hooks = Objects.requireNonNull(hooks);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(settings.aggregatesTopic(), settings.deadLetterTopic()), new Rebalance());
            while (running) {
                Duration wait = batch.isEmpty() ? IDLE_POLL
                        : Duration.ofNanos(Math.max(0, settings.batchLinger().toNanos() - batch.ageNanos()));
                add(consumer.poll(wait));
                metrics.updateLag(consumer);
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
