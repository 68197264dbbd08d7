package dev.metering.events.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The bytes are not a Confluent wire-format Avro record: a wrong magic byte, fewer than the 5
 * header bytes, or an Avro body that is truncated or cannot be decoded with its writer schema.
 * The message says which. The streams app dead-letters these as {@code MALFORMED}.
 */
public class MalformedPayloadException extends SerializationException {

    private static final long serialVersionUID = 1L;

    /** A malformed payload, explained by {@code message}. */
    public MalformedPayloadException(String message) {
        super(message);
    }

    /** A malformed payload, explained by {@code message}, found while decoding. */
    public MalformedPayloadException(String message, Throwable cause) {
        super(message, cause);
    }
}
