package dev.metering.sink;

import dev.metering.avro.UsageEvent;
import java.time.Instant;
import java.util.Objects;

/**
 * A refused record, as stored in {@code metering.dead_letters}: the reason, where the original
 * record came from, and its untouched key and value bytes. {@code event} is the decoded
 * {@code UsageEvent} of {@code LATE} and {@code INVALID} records whose payload decodes (its org and
 * event id are stored, so an event's fate can be looked up); late ones also go to
 * {@code metering.late_events}.
 *
 * @param topic           the ORIGINAL record's topic (the unique key with partition and offset)
 * @param recordTimestamp the original record's timestamp, or null when unknown
 */
record DeadLetterRow(String reason, String message, String stage, String topic, int partition, long offset,
                  Instant recordTimestamp, byte[] key, byte[] payload, boolean late, UsageEvent event) {

    DeadLetterRow {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(topic, "topic");
    }
}
