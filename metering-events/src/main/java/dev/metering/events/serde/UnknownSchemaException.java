package dev.metering.events.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The payload names a schema id that gives no usable Avro schema: the registry does not know it
 * (404), refuses it for good (any other 4xx but 429), or answers with a schema of another type
 * (JSON, PROTOBUF) or text Avro cannot parse. The message carries the registry's answer. The
 * streams app dead-letters these as {@code UNKNOWN_SCHEMA}. A registry that cannot be reached or
 * answers 5xx or 429 is not this: that is a plain {@link SerializationException} caused by a
 * transient {@link dev.metering.events.registry.SchemaRegistryException}.
 */
public class UnknownSchemaException extends SerializationException {

    private static final long serialVersionUID = 1L;

    private final int schemaId;

    /** The registry gives no usable schema for {@code schemaId}; {@code cause} says why. */
    public UnknownSchemaException(int schemaId, Throwable cause) {
        super("schema id " + schemaId + " gives no usable Avro schema"
                + (cause == null ? "" : ": " + cause.getMessage()), cause);
        this.schemaId = schemaId;
    }

    /** The schema id read from the payload's header. */
    public int schemaId() {
        return schemaId;
    }
}
