package dev.metering.events.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * A real, in-process schema registry with the semantics of Confluent's: one global id per
 * distinct schema (shared across subjects), versions per subject (1-based), and the subject's
 * compatibility level (global default {@code BACKWARD}) enforced on registration with Avro's
 * {@link org.apache.avro.SchemaCompatibility}. Refusals carry Confluent's status and error codes.
 *
 * <p>Meant for unit tests ({@code TopologyTestDriver}, serde round trips); integration tests use
 * a real registry over HTTP. Thread-safe.
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {

    private final Map<Schema, Integer> idsBySchema = new HashMap<>();
    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<String, List<Integer>> versionsBySubject = new HashMap<>();
    private final Map<String, CompatibilityLevel> levelBySubject = new HashMap<>();
    private CompatibilityLevel globalLevel = CompatibilityLevel.BACKWARD;
    private int nextId;

    /** A registry that assigns ids from 1. */
    public InMemorySchemaRegistryClient() {
        this(1);
    }

    /** A registry that assigns ids from {@code firstId} (tests pin ids for golden bytes). */
    public InMemorySchemaRegistryClient(int firstId) {
        if (firstId < 0) {
            throw new IllegalArgumentException("firstId must not be negative");
        }
        this.nextId = firstId;
    }

    @Override
    public synchronized int register(String subject, Schema schema) {
        List<Integer> versions = versionsBySubject.getOrDefault(subject, List.of());
        Integer known = idsBySchema.get(schema);
        if (known != null && versions.contains(known)) {
            return known;
        }
        if (!level(subject).isCompatible(schemasOf(versions), schema)) {
            throw new SchemaRegistryException(409, INCOMPATIBLE_SCHEMA,
                    "Schema being registered is incompatible with an earlier schema for subject \""
                            + subject + "\" (compatibility " + level(subject) + ")",
                    "POST /subjects/" + subject + "/versions");
        }
        int id = known != null ? known : assignId(schema);
        versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>()).add(id);
        return id;
    }

    @Override
    public synchronized int getId(String subject, Schema schema) {
        List<Integer> versions = versions(subject, "POST /subjects/" + subject);
        Integer id = idsBySchema.get(schema);
        if (id == null || !versions.contains(id)) {
            throw new SchemaRegistryException(404, SCHEMA_NOT_FOUND, "Schema not found",
                    "POST /subjects/" + subject);
        }
        return id;
    }

    @Override
    public synchronized Schema getSchemaById(int id) {
        Schema schema = schemasById.get(id);
        if (schema == null) {
            throw new SchemaRegistryException(404, SCHEMA_NOT_FOUND, "Schema " + id + " not found",
                    "GET /schemas/ids/" + id);
        }
        return schema;
    }

    @Override
    public synchronized SchemaVersion getLatestVersion(String subject) {
        List<Integer> versions = versions(subject, "GET /subjects/" + subject + "/versions/latest");
        int id = versions.get(versions.size() - 1);
        return new SchemaVersion(subject, versions.size(), id, schemasById.get(id));
    }

    @Override
    public synchronized SchemaVersion getVersion(String subject, int version) {
        String request = "GET /subjects/" + subject + "/versions/" + version;
        List<Integer> versions = versions(subject, request);
        if (version < 1 || version > versions.size()) {
            throw new SchemaRegistryException(404, VERSION_NOT_FOUND, "Version " + version + " not found.", request);
        }
        int id = versions.get(version - 1);
        return new SchemaVersion(subject, version, id, schemasById.get(id));
    }

    @Override
    public synchronized boolean testCompatibility(String subject, Schema schema) {
        return level(subject).isCompatible(schemasOf(versionsBySubject.getOrDefault(subject, List.of())), schema);
    }

    @Override
    public synchronized String getCompatibility(String subject) {
        return level(subject).name();
    }

    @Override
    public synchronized void setCompatibility(String subject, String level) {
        CompatibilityLevel parsed = CompatibilityLevel.parse(level);
        if (subject == null) {
            globalLevel = parsed;
        } else {
            levelBySubject.put(subject, parsed);
        }
    }

    private int assignId(Schema schema) {
        int id = nextId++;
        idsBySchema.put(schema, id);
        schemasById.put(id, schema);
        return id;
    }

    private CompatibilityLevel level(String subject) {
        return levelBySubject.getOrDefault(subject, globalLevel);
    }

    private List<Integer> versions(String subject, String request) {
        List<Integer> versions = versionsBySubject.get(subject);
        if (versions == null || versions.isEmpty()) {
            throw new SchemaRegistryException(404, SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.", request);
        }
        return versions;
    }

    private List<Schema> schemasOf(List<Integer> ids) {
        List<Schema> schemas = new ArrayList<>(ids.size());
        for (int id : ids) {
            schemas.add(schemasById.get(id));
        }
        return schemas;
    }
}
