package dev.metering.events.serde;

import dev.metering.events.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * An {@link AvroSerializer} and an {@link AvroDeserializer} as one Kafka {@link Serde}, in the
 * Confluent wire format. {@link #configure} configures both with Confluent's keys. For a ready,
 * typed serde see {@link AvroSerdes#specific}.
 *
 * @param <T> the record type
 */
public class AvroSerde<T> implements Serde<T> {

    private final AvroSerializer<T> serializer;
    private final AvroDeserializer<T> deserializer;

    /** For Kafka's reflective instantiation (e.g. {@code default.value.serde}); {@link #configure} must follow. */
    public AvroSerde() {
        this.serializer = new AvroSerializer<>();
        this.deserializer = new AvroDeserializer<>();
    }

    /** A serde on a shared client: generic records unless configured with {@code specific.avro.reader=true}. */
    public AvroSerde(SchemaRegistryClient client) {
        this.serializer = new AvroSerializer<>(client);
        this.deserializer = new AvroDeserializer<>(client);
    }

    /** A serde on a shared client that reads instances of the generated class {@code type}. */
    public AvroSerde(SchemaRegistryClient client, Class<? extends SpecificRecord> type) {
        this.serializer = new AvroSerializer<>(client);
        this.deserializer = new AvroDeserializer<>(client, type);
    }

    /** A serde on a shared client that reads generic records resolved to {@code readerSchema}. */
    public AvroSerde(SchemaRegistryClient client, Schema readerSchema) {
        this.serializer = new AvroSerializer<>(client);
        this.deserializer = new AvroDeserializer<>(client, readerSchema);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        serializer.configure(configs, isKey);
        deserializer.client(serializer.client()); // one registry client (and cache) for both directions
        deserializer.configure(configs, isKey);
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }

    @Override
    public void close() {
        serializer.close();
        deserializer.close();
    }
}
