package dev.metering.sink;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Backpressure on the consumer: the partitions the loop paused (writer busy and next batch full, or
 * decoding to be retried), resumed together. Polling goes on while paused, so the consumer stays in
 * its group. A partition paused by someone else (e.g. a test hook) stays theirs.
 */
final class PausedPartitions {

    private final Consumer<byte[], byte[]> consumer;
    private final Set<TopicPartition> pausedByLoop = new HashSet<>();

    PausedPartitions(Consumer<byte[], byte[]> consumer) {
        this.consumer = consumer;
    }

    /** Pauses every assigned partition not paused already. */
    void pauseAll() {
        Set<TopicPartition> toPause = new HashSet<>(consumer.assignment());
        toPause.removeAll(consumer.paused());
        if (!toPause.isEmpty()) {
            consumer.pause(toPause);
            pausedByLoop.addAll(toPause);
        }
    }

    /** Resumes the partitions this loop paused and still owns. */
    void resumeAll() {
        if (pausedByLoop.isEmpty()) {
            return;
        }
        Set<TopicPartition> toResume = new HashSet<>(pausedByLoop);
        toResume.retainAll(consumer.assignment());
        consumer.resume(toResume);
        pausedByLoop.clear();
    }

    /** Partitions taken away are no longer ours to resume. */
    void forget(Collection<TopicPartition> partitions) {
        pausedByLoop.removeAll(partitions);
    }
}
