package dev.metering.api.deadletter;

import java.time.Instant;

/** A row of {@code metering.dead_letters}: the original record's coordinates, bytes, and why it was refused. */
public record DeadLetter(long id, String reason, String message, String stage, String topic, int partition, long offset,
                         Instant recordTimestamp, byte[] key, byte[] payload, Instant receivedAt) {
}
