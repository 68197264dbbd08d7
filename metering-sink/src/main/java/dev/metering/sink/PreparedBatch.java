package dev.metering.sink;

import dev.metering.avro.PricedUsageEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * A decoded batch, ready for one database transaction.
 *
 * @param updates     the newest update of each window key in the batch, sorted by key (a fixed
 *                    lock order, so two writers can never deadlock on the same rows)
 * @param collapsed   updates dropped because the same batch held a newer version of their key
 * @param deadLetters records refused upstream (DLQ) or undecodable here
 * @param events      counted events for the event log (empty when it is off)
 * @param progress    per input partition: next offset and newest event time written
 */
record PreparedBatch(List<WindowUpdate> updates, int collapsed, List<DeadLetterRow> deadLetters,
                     List<PricedUsageEvent> events, Map<TopicPartition, Progress> progress, int records) {

    /** Where a partition stands once this batch is written. */
    record Progress(long nextOffset, Instant newestEventAt) {
    }
}
