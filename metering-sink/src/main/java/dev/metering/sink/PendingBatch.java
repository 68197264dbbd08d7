package dev.metering.sink;

import java.time.Duration;
import java.util.Collection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch being polled: raw records until it holds {@code batchSize} records or is
 * {@code batchLinger} old, then decoded once for the writer. A decode that fails transiently (the
 * schema registry away) keeps the records and is tried again after a backoff while polling goes on;
 * any other decoding failure stops the sink. Used by the polling thread only.
 */
final class PendingBatch {

    private static final Logger log = LoggerFactory.getLogger(PendingBatch.class);

    /** A decoded batch taken for the writer, with how long decoding took (counted in its write time). */
    record Decoded(Batch batch, PreparedBatch prepared, long decodeNanos) {
    }

    private final RecordDecoder decoder;
    private final SinkMetrics metrics;
    private final LoopSettings settings;
    private Batch batch = new Batch();
    /** The decoded form of {@link #batch}; null whenever the raw batch changed. */
    private PreparedBatch prepared;
    /** A failed decode (schema registry away) is tried again at this System.nanoTime(). */
    private long decodeNotBefore = System.nanoTime();
    private int decodeAttempts;
    /** How long decoding {@link #prepared} took. */
    private long decodeNanos;

    PendingBatch(RecordDecoder decoder, SinkMetrics metrics, LoopSettings settings) {
        this.decoder = decoder;
        this.metrics = metrics;
        this.settings = settings;
    }

    void add(ConsumerRecords<byte[], byte[]> records) {
        if (records.isEmpty()) {
            return;
        }
        for (ConsumerRecord<byte[], byte[]> record : records) {
            batch.add(record);
        }
        prepared = null;
    }

    boolean isEmpty() {
        return batch.isEmpty();
    }

    boolean isFull() {
        return batch.size() >= settings.batchSize();
    }

    /** How long the batch may still linger before it is due (zero once due). */
    Duration lingerLeft() {
        return Duration.ofNanos(Math.max(0, settings.batchLinger().toNanos() - batch.ageNanos()));
    }

    /** Whether a failed decode waits for its backoff. */
    boolean decodeDeferred() {
        return System.nanoTime() - decodeNotBefore < 0;
    }

    /** How long until a deferred decode may be tried again (zero when not deferred). */
    Duration decodeDeferredFor() {
        return Duration.ofNanos(Math.max(0, decodeNotBefore - System.nanoTime()));
    }

    /** The offset of the partition's first record in this batch, or null when it has none. */
    Long firstOffset(TopicPartition tp) {
        return batch.firstOffset(tp);
    }

    /** Drops the records of partitions taken away (their new owner reads them again). */
    boolean removePartitions(Collection<TopicPartition> partitions) {
        if (batch.removePartitions(partitions)) {
            prepared = null;
            return true;
        }
        return false;
    }

    /**
     * Decodes the batch once it is due: full, or {@code batchLinger} old while the writer is free (a
     * due batch keeps filling up to the batch size while the writer is busy, decoded when full).
     *
     * @return whether the batch is decoded and ready for {@link #take()}
     */
    boolean decodeIfDue(boolean writerBusy) {
        boolean full = isFull();
        if (batch.isEmpty() || decodeDeferred() || (!full && batch.ageNanos() < settings.batchLinger().toNanos())
                || (!full && writerBusy)) {
            return false;
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
                decodeNotBefore = System.nanoTime() + settings.backoffNanos(decodeAttempts++);
                return false;
            }
            decodeNanos = System.nanoTime() - decoding;
        }
        return true;
    }

    /** Takes the decoded batch (after {@link #decodeIfDue} returned true); a new one starts empty. */
    Decoded take() {
        Decoded taken = new Decoded(batch, prepared, decodeNanos);
        batch = new Batch();
        prepared = null;
        return taken;
    }
}
