package dev.metering.events.registry;

import org.apache.avro.Schema;

/**
 * The subset of the Confluent Schema Registry REST API the pipeline needs, for Avro schemas.
 *
 * <p>Implementations: {@link HttpSchemaRegistryClient} talks to a real registry (Confluent
 * Schema Registry, Confluent Cloud, Apicurio's {@code /apis/ccompat/v7}, Karapace, Redpanda);
 * {@link InMemorySchemaRegistryClient} is a real, in-process registry for unit tests
 * (for example with {@code TopologyTestDriver}).
 *
 * <p>Every method throws {@link SchemaRegistryException} when the registry refuses the request
 * (carrying the HTTP status and the registry's own {@code error_code} and {@code message}) or
 * cannot be reached. Implementations are thread-safe.
 */
public interface SchemaRegistryClient {

    /** Confluent's error code: the subject does not exist. */
    int SUBJECT_NOT_FOUND = 40401;
    /** Confluent's error code: the version does not exist in the subject. */
    int VERSION_NOT_FOUND = 40402;
    /** Confluent's error code: the schema (by id, or in the subject) does not exist. */
    int SCHEMA_NOT_FOUND = 40403;
    /** Confluent's error code: the schema is incompatible with earlier versions of the subject. */
    int INCOMPATIBLE_SCHEMA = 409;
    /** Confluent's error code: the schema is not valid. */
    int INVALID_SCHEMA = 42201;
    /** Confluent's error code: the compatibility level is not valid. */
    int INVALID_COMPATIBILITY_LEVEL = 42203;

    /**
     * Registers {@code schema} under {@code subject}, or finds it if the subject already holds it.
     *
     * @return the schema's global id; registering the same schema again returns the same id
     * @throws SchemaRegistryException with status 409 when the subject's compatibility rule refuses it
     */
    int register(String subject, Schema schema);

    /**
     * Looks up the id of {@code schema} in {@code subject} without registering it (what a
     * serializer with {@code auto.register.schemas=false} does).
     *
     * @throws SchemaRegistryException with status 404 ({@link #SUBJECT_NOT_FOUND} or
     *     {@link #SCHEMA_NOT_FOUND}) when the subject does not hold the schema
     */
    int getId(String subject, Schema schema);

    /**
     * The schema with the given global id.
     *
     * @throws SchemaRegistryException with status 404 and {@link #SCHEMA_NOT_FOUND} for an unknown id
     */
    Schema getSchemaById(int id);

    /** The newest version registered under {@code subject}. */
    SchemaVersion getLatestVersion(String subject);

    /** A specific version (1-based) of {@code subject}. */
    SchemaVersion getVersion(String subject, int version);

    /**
     * Whether {@code schema} could be registered under {@code subject} given the subject's
     * compatibility level. A subject that does not exist yet accepts any schema.
     */
    boolean testCompatibility(String subject, Schema schema);

    /**
     * The compatibility level in force for {@code subject} (e.g. {@code BACKWARD}): the
     * subject's own level, else the registry's global default.
     */
    String getCompatibility(String subject);

    /**
     * Sets the compatibility level of {@code subject}: one of {@code NONE, BACKWARD,
     * BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE} (case-insensitive).
     *
     * @throws IllegalArgumentException for an unknown level, before asking the registry
     *     (registries disagree on how they refuse one: Confluent 422, Apicurio 400)
     */
    void setCompatibility(String subject, String level);
}
