package dev.metering.sink;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The raw records polled since the last offset commit, and the offsets to commit once they are in
 * the database. Records stay raw until the flush decodes them, so a registry outage while
 * decoding is retried like a database outage.
 */
final class Batch {

    private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
    /** Per partition, the offset of its first record here (records of a partition arrive in order). */
    private final Map<TopicPartition, Long> firstOffsets = new HashMap<>();
    private long firstRecordNanos;

    void add(ConsumerRecord<byte[], byte[]> record) {
        if (records.isEmpty()) {
            firstRecordNanos = System.nanoTime();
        }
        records.add(record);
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        nextOffsets.merge(tp, record.offset() + 1, Math::max);
        firstOffsets.putIfAbsent(tp, record.offset());
    }

    boolean isEmpty() {
        return records.isEmpty();
    }

    int size() {
        return records.size();
    }

    List<ConsumerRecord<byte[], byte[]>> records() {
        return records;
    }

    /** Nanos since the first record of this batch arrived (0 when empty). */
    long ageNanos() {
        return records.isEmpty() ? 0 : System.nanoTime() - firstRecordNanos;
    }

    Map<TopicPartition, OffsetAndMetadata> offsetsToCommit() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        nextOffsets.forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
        return offsets;
    }

    Map<TopicPartition, Long> nextOffsets() {
        return nextOffsets;
    }

    /** How many records of each partition this batch holds. */
    Map<TopicPartition, Long> countByPartition() {
        Map<TopicPartition, Long> counts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            counts.merge(new TopicPartition(r.topic(), r.partition()), 1L, Long::sum);
        }
        return counts;
    }

    /** The offset of the partition's first record in this batch, or null when it has none. */
    Long firstOffset(TopicPartition tp) {
        return firstOffsets.get(tp);
    }

    /**
     * Drops the records of partitions this consumer no longer owns. Nothing of them was committed,
     * so their new owner reads them again from the last committed offset.
     *
     * @return whether anything was dropped
     */
    boolean removePartitions(Collection<TopicPartition> partitions) {
        Set<TopicPartition> gone = new HashSet<>(partitions);
        boolean removed = records.removeIf(r -> gone.contains(new TopicPartition(r.topic(), r.partition())));
        nextOffsets.keySet().removeAll(gone);
        firstOffsets.keySet().removeAll(gone);
        return removed;
    }

    void clear() {
        records.clear();
        nextOffsets.clear();
        firstOffsets.clear();
    }
}
