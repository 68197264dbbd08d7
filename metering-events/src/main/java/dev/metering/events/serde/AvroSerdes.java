package dev.metering.events.serde;

import dev.metering.events.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/** Factories for configured Avro serdes, and the TopicNameStrategy. */
public final class AvroSerdes {

    private AvroSerdes() {
    }

    /**
     * A configured serde for the generated class {@code type}: writes it in the Confluent wire
     * format, reads any compatible writer schema into {@code type}.
     *
     * @param type   the generated {@code SpecificRecord} class, e.g. {@code UsageEvent.class}
     * @param client the registry client (share one per application)
     * @param config Confluent serde keys, e.g. {@code auto.register.schemas}; may be empty
     * @param isKey  true for a key serde (subject {@code <topic>-key})
     */
    public static <T extends SpecificRecord> Serde<T> specific(Class<T> type, SchemaRegistryClient client,
                                                               Map<String, ?> config, boolean isKey) {
        AvroSerde<T> serde = new AvroSerde<>(client, type);
        serde.configure(config, isKey);
        return serde;
    }

    /** A configured serde for generic records, read with their writer's schema. */
    public static Serde<GenericRecord> generic(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        AvroSerde<GenericRecord> serde = new AvroSerde<>(client);
        serde.configure(config, isKey);
        return serde;
    }

    /** Confluent's TopicNameStrategy: {@code <topic>-key} or {@code <topic>-value}. */
    public static String subject(String topic, boolean isKey) {
        return topic + (isKey ? "-key" : "-value");
    }
}
