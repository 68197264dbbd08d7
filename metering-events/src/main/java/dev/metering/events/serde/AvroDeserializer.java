package dev.metering.events.serde;

import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryException;
import java.io.EOFException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Deserializes Confluent wire-format Avro (magic byte {@code 0x00}, 4-byte big-endian schema id,
 * Avro binary), as written by {@link AvroSerializer} or Confluent's {@code KafkaAvroSerializer}.
 *
 * <p>The writer's schema is fetched from the registry by the id in the payload (and cached).
 * The reader's schema is, in order: the {@code SpecificRecord} class given to the constructor;
 * with {@code specific.avro.reader=true}, the generated class named like the writer's schema;
 * a reader schema given to the constructor (generic records); else the writer's schema itself
 * (generic records). Avro schema resolution maps writer to reader (defaults fill new fields,
 * removed fields are skipped).
 *
 * <p>Failures are typed so the streams app can dead-letter them by reason:
 * {@link MalformedPayloadException} for a payload shorter than 5 bytes, a wrong magic byte, or an
 * Avro body that is truncated, has trailing bytes or cannot be decoded; {@link UnknownSchemaException}
 * for an id that gives no usable Avro schema: unknown to the registry, refused by it (any 4xx but
 * 429), of another schema type, or schema text Avro cannot parse. A registry that cannot be
 * reached or answers 5xx or 429 gives a plain {@link SerializationException} caused by a transient
 * {@link SchemaRegistryException} (do not dead-letter: ask again later). Null bytes give null.
 * Thread-safe once configured.
 *
 * @param <T> the record type
 */
public class AvroDeserializer<T> implements Deserializer<T> {

    private SchemaRegistryClient client;
    private final Class<? extends SpecificRecord> type;
    private final Schema readerSchema;
    private boolean specificReader;
    private final Map<Integer, DatumReader<Object>> readers = new ConcurrentHashMap<>();

    /** For Kafka's reflective instantiation; {@link #configure} must follow. */
    public AvroDeserializer() {
        this.type = null;
        this.readerSchema = null;
    }

    /** Reads generic records with the writer's schema (or specific ones once configured with {@code specific.avro.reader=true}). */
    public AvroDeserializer(SchemaRegistryClient client) {
        this.client = Objects.requireNonNull(client, "client");
        this.type = null;
        this.readerSchema = null;
    }

    /** Reads instances of the generated class {@code type}, resolving every writer schema to its schema. */
    public AvroDeserializer(SchemaRegistryClient client, Class<? extends SpecificRecord> type) {
        this.client = Objects.requireNonNull(client, "client");
        this.type = Objects.requireNonNull(type, "type");
        this.readerSchema = SpecificData.getForClass(type).getSchema(type);
        this.specificReader = true;
    }

    /** Reads generic records resolved to {@code readerSchema}, whatever schema they were written with. */
    public AvroDeserializer(SchemaRegistryClient client, Schema readerSchema) {
        this.client = Objects.requireNonNull(client, "client");
        this.type = null;
        this.readerSchema = Objects.requireNonNull(readerSchema, "readerSchema");
    }

    /** A configured deserializer on a shared client (the config's registry URL is then ignored). */
    public AvroDeserializer(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        this(client);
        configure(config, isKey);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (type == null) {
            this.specificReader = AvroSerdeConfig.from(configs).specificAvroReader();
        }
        if (client == null) {
            client = HttpSchemaRegistryClient.fromConfig(configs);
        }
        readers.clear();
    }

    void client(SchemaRegistryClient client) {
        this.client = client;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length < WireFormat.HEADER_SIZE) {
            throw new MalformedPayloadException("payload of " + data.length
                    + " bytes is shorter than the 5-byte header (magic byte and schema id)");
        }
        if (data[0] != WireFormat.MAGIC_BYTE) {
            throw new MalformedPayloadException(String.format("unknown magic byte 0x%02x (expected 0x00)", data[0] & 0xff));
        }
        if (client == null) {
            throw new IllegalStateException("AvroDeserializer is not configured: no schema registry client");
        }
        int schemaId = WireFormat.readSchemaId(data);
        DatumReader<Object> reader = readers.computeIfAbsent(schemaId, this::newReader);
        int bodyLength = data.length - WireFormat.HEADER_SIZE;
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_SIZE, bodyLength, null);
        Object value;
        try {
            value = reader.read(null, decoder);
        } catch (EOFException e) {
            throw new MalformedPayloadException("Avro body of " + bodyLength + " bytes is truncated for schema id "
                    + schemaId + " (" + describe(schemaId) + ")", e);
        } catch (IOException | RuntimeException e) {
            throw new MalformedPayloadException("Avro body of " + bodyLength + " bytes cannot be decoded with schema id "
                    + schemaId + " (" + describe(schemaId) + "): " + e, e);
        }
        try {
            if (!decoder.isEnd()) {
                throw new MalformedPayloadException("Avro body has trailing bytes after a complete record of schema id "
                        + schemaId + " (" + describe(schemaId) + ")");
            }
        } catch (IOException e) {
            throw new MalformedPayloadException("Avro body cannot be decoded with schema id " + schemaId + ": " + e, e);
        }
        return (T) value;
    }

    private DatumReader<Object> newReader(int schemaId) {
        Schema writer;
        try {
            writer = client.getSchemaById(schemaId);
        } catch (SchemaRegistryException e) {
            if (!e.isTransient()) {
                throw new UnknownSchemaException(schemaId, e);
            }
            throw new SerializationException("cannot fetch schema id " + schemaId + " from the registry: " + e.getMessage(), e);
        }
        if (type != null) {
            return new SpecificDatumReader<>(writer, readerSchema, TrustedSpecificData.forClass(type));
        }
        if (specificReader) {
            Class<?> generated;
            try {
                generated = new TrustedSpecificData(classLoader(), List.of()).getClass(writer);
            } catch (AvroRuntimeException e) {
                generated = null;
            }
            if (generated == null || !SpecificRecord.class.isAssignableFrom(generated)) {
                throw new SerializationException("specific.avro.reader=true but no generated class "
                        + writer.getFullName() + " is on the classpath (schema id " + schemaId + ")");
            }
            SpecificData model = TrustedSpecificData.forClass(generated);
            return new SpecificDatumReader<>(writer, model.getSchema(generated), model);
        }
        return new GenericDatumReader<>(writer, readerSchema != null ? readerSchema : writer, GenericData.get());
    }

    private static ClassLoader classLoader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : AvroDeserializer.class.getClassLoader();
    }

    private String describe(int schemaId) {
        try {
            return client.getSchemaById(schemaId).getFullName();
        } catch (RuntimeException e) {
            return "unknown";
        }
    }

    @Override
    public void close() {
        // the registry client is shared or owns no resources that need closing
    }
}
