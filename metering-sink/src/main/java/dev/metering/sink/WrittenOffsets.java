package dev.metering.sink;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Per assigned aggregates partition, the offset below which every record is in the database:
 * updated by the polling thread, read from any thread ({@link PipelineWatch} reads it).
 */
final class WrittenOffsets {

    /** How often the offsets are brought up to date. */
    private static final long PUBLISH_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final Consumer<byte[], byte[]> consumer;
    private final String aggregatesTopic;
    private final PendingBatch pending;
    private final WriterThread writer;
    private long publishedNanos = System.nanoTime() - PUBLISH_NANOS;
    private volatile Map<TopicPartition, Long> written = Map.of();

    WrittenOffsets(Consumer<byte[], byte[]> consumer, String aggregatesTopic, PendingBatch pending,
                   WriterThread writer) {
        this.consumer = consumer;
        this.aggregatesTopic = aggregatesTopic;
        this.pending = pending;
        this.writer = writer;
    }

    /** The latest offsets; a partition this sink has not yet positioned is absent. */
    Map<TopicPartition, Long> get() {
        return written;
    }

    /**
     * Records before the consumer's position are in the batch being polled, in the batch in flight,
     * or written (batches are written in order); so a partition's first offset in those two
     * batches, else its position, bounds what is written. At most every 100 ms; position is local
     * once known, a partition whose position is not known yet is left out.
     */
    void publish() {
        long now = System.nanoTime();
        if (now - publishedNanos < PUBLISH_NANOS) {
            return;
        }
        publishedNanos = now;
        Map<TopicPartition, Long> out = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            if (!tp.topic().equals(aggregatesTopic)) {
                continue;
            }
            Long first = pending.firstOffset(tp);
            Long flying = writer.firstOffset(tp);
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
}
