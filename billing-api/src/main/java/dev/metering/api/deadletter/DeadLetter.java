package dev.metering.api.deadletter;

import java.time.Instant;

/**
 * A row of {@code metering.dead_letters}: the original record's coordinates, bytes, and why it was
 * refused. In a listing {@code key} and {@code payload} may be only their first bytes;
 * {@code keyLength} and {@code payloadLength} are always the stored sizes.
 */
public record DeadLetter(long id, String reason, String message, String stage, String topic, int partition, long offset,
                         Instant recordTimestamp, byte[] key, long keyLength, byte[] payload, long payloadLength,
                         Instant receivedAt) {

    public boolean payloadTruncated() {
        return payload != null && payload.length < payloadLength;
    }

    public boolean keyTruncated() {
        return key != null && key.length < keyLength;
    }
}
