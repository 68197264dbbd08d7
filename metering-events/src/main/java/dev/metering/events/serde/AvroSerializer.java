package dev.metering.events.serde;

import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryException;
import dev.metering.events.registry.SchemaVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Serializes Avro records ({@link SpecificRecord} or {@link org.apache.avro.generic.GenericRecord})
 * in the Confluent wire format: magic byte {@code 0x00}, the schema id as 4 bytes big-endian, then
 * the Avro binary encoding. Byte-compatible with Confluent's {@code KafkaAvroSerializer}.
 *
 * <p>The subject follows the TopicNameStrategy: {@code <topic>-value}, or {@code <topic>-key}
 * for a key serializer. With {@code auto.register.schemas=true} (the default) the record's schema
 * is registered (or found) under the subject; with {@code false} its id is only looked up, and an
 * unregistered schema fails. With {@code use.latest.version=true} the subject's latest version's
 * id is used; the record's schema must then encode identically (same Parsing Canonical Form).
 *
 * <p>Create it either by class name in a Kafka client config (then {@link #configure} builds an
 * {@link HttpSchemaRegistryClient} from {@code schema.registry.url} and friends), or with a
 * {@link SchemaRegistryClient} you share. Null serializes to null. Thread-safe once configured.
 *
 * @param <T> the record type
 */
public class AvroSerializer<T> implements Serializer<T> {

    private SchemaRegistryClient client;
    private AvroSerdeConfig config = AvroSerdeConfig.from(Map.of());
    private boolean isKey;
    private final Map<Schema, DatumWriter<Object>> specificWriters = new ConcurrentHashMap<>();
    private final Map<Schema, DatumWriter<Object>> genericWriters = new ConcurrentHashMap<>();

    /** For Kafka's reflective instantiation; {@link #configure} must follow. */
    public AvroSerializer() {
    }

    /** A value serializer with default settings on a shared client; {@link #configure} may still follow. */
    public AvroSerializer(SchemaRegistryClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    /** A configured serializer on a shared client (the config's registry URL is then ignored). */
    public AvroSerializer(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        this(client);
        configure(config, isKey);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.config = AvroSerdeConfig.from(configs);
        this.isKey = isKey;
        if (client == null) {
            client = HttpSchemaRegistryClient.fromConfig(configs);
        }
    }

    SchemaRegistryClient client() {
        return client;
    }

    void client(SchemaRegistryClient client) {
        this.client = client;
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        if (!(data instanceof GenericContainer container)) {
            throw new SerializationException("AvroSerializer serializes Avro records (SpecificRecord or GenericRecord), not "
                    + data.getClass().getName());
        }
        if (client == null) {
            throw new IllegalStateException("AvroSerializer is not configured: no schema registry client");
        }
        Schema schema = container.getSchema();
        int schemaId = schemaId(AvroSerdes.subject(topic, isKey), schema);
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        byte[] header = new byte[WireFormat.HEADER_SIZE];
        WireFormat.writeHeader(header, schemaId);
        out.writeBytes(header);
        try {
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            writer(schema, data).write(data, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode " + schema.getFullName() + " for topic " + topic + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private int schemaId(String subject, Schema schema) {
        try {
            if (config.useLatestVersion()) {
                SchemaVersion latest = client.getLatestVersion(subject);
                if (!SchemaNormalization.toParsingForm(latest.schema()).equals(SchemaNormalization.toParsingForm(schema))) {
                    throw new SerializationException("use.latest.version: the latest version " + latest.version()
                            + " (id " + latest.id() + ") of subject " + subject
                            + " does not encode like the record's schema " + schema.getFullName());
                }
                return latest.id();
            }
            return config.autoRegisterSchemas() ? client.register(subject, schema) : client.getId(subject, schema);
        } catch (SchemaRegistryException e) {
            throw new SerializationException("cannot get the schema id of " + schema.getFullName()
                    + " in subject " + subject + ": " + e.getMessage(), e);
        }
    }

    private DatumWriter<Object> writer(Schema schema, Object data) {
        // one schema may arrive both as a generated class (with logical-type conversions, e.g.
        // Instant) and as a GenericRecord (raw longs): each needs its own writer
        if (data instanceof SpecificRecord) {
            return specificWriters.computeIfAbsent(schema,
                    s -> new SpecificDatumWriter<>(s, SpecificData.getForClass(data.getClass())));
        }
        return genericWriters.computeIfAbsent(schema, s -> new GenericDatumWriter<>(s, GenericData.get()));
    }

    @Override
    public void close() {
        // the registry client is shared or owns no resources that need closing
    }
}
