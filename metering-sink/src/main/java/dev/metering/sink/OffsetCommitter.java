package dev.metering.sink;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a written batch's offsets, on the polling thread, only after its database transaction
 * committed. A refused commit is logged, not fatal: the batch is then re-delivered and written
 * again, changing nothing.
 */
final class OffsetCommitter {

    private static final Logger log = LoggerFactory.getLogger(OffsetCommitter.class);

    private final Consumer<byte[], byte[]> consumer;

    OffsetCommitter(Consumer<byte[], byte[]> consumer) {
        this.consumer = consumer;
    }

    /** Commits the batch's offsets of the partitions still assigned. */
    void commit(Batch batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = owned(batch.offsetsToCommit());
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
}
