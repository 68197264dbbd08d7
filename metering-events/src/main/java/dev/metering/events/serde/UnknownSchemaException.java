package dev.metering.events.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The payload names a schema id that the registry does not know (HTTP 404). The streams app
 * dead-letters these as {@code UNKNOWN_SCHEMA}. A registry that cannot be reached is not this:
 * that is a plain {@link SerializationException} caused by a
 * {@link dev.metering.events.registry.SchemaRegistryException}.
 */
public class UnknownSchemaException extends SerializationException {

    private static final long serialVersionUID = 1L;

    private final int schemaId;

    /** The registry does not know {@code schemaId}. */
    public UnknownSchemaException(int schemaId, Throwable cause) {
        super("schema id " + schemaId + " is not known to the schema registry", cause);
        this.schemaId = schemaId;
    }

    /** The schema id read from the payload's header. */
    public int schemaId() {
        return schemaId;
    }
}
