package dev.metering.events.registry;

import java.util.Objects;
import org.apache.avro.Schema;

/**
 * One version of a subject in the schema registry.
 *
 * @param subject the subject, e.g. {@code metering.usage.events-value}
 * @param version the 1-based version within the subject
 * @param id      the schema's global id (the one written into the Confluent wire format)
 * @param schema  the Avro schema
 */
public record SchemaVersion(String subject, int version, int id, Schema schema) {

    public SchemaVersion {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(schema, "schema");
    }
}
