package dev.metering.events.serde;

import static dev.metering.events.UsageEventFixtures.anEvent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.UsageEvent;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryException;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificData;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

    private static final String TOPIC = "metering.usage.events";

    /** UsageEvent plus a field {@code region} with a default: a BACKWARD-compatible evolution. */
    private static final Schema V2 = new Schema.Parser().parse(UsageEvent.getClassSchema().toString()
            .replace("{\"name\":\"attributes\"",
                    "{\"name\":\"region\",\"type\":\"string\",\"default\":\"eu\"},{\"name\":\"attributes\""));

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    @Test
    void shouldRoundTripSpecificRecordThroughConvenienceSerde() {
        Serde<UsageEvent> serde = AvroSerdes.specific(UsageEvent.class, registry, Map.of(), false);
        UsageEvent event = anEvent().model("anthropic", "claude").tokens(10, 20).costNanos(1_500L).build();

        byte[] bytes = serde.serializer().serialize(TOPIC, event);

        assertThat(serde.deserializer().deserialize(TOPIC, bytes)).isEqualTo(event);
        assertThat(registry.getLatestVersion(TOPIC + "-value").schema()).isEqualTo(UsageEvent.getClassSchema());
    }

    @Test
    void shouldUseKeySubjectForKeySerde() {
        Serde<UsageEvent> serde = AvroSerdes.specific(UsageEvent.class, registry, Map.of(), true);

        serde.serializer().serialize("t", anEvent().build());

        assertThat(registry.getLatestVersion("t-key").version()).isEqualTo(1);
        assertThatThrownBy(() -> registry.getLatestVersion("t-value"))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40401));
    }

    @Test
    void shouldReuseIdForSameSchema() {
        AvroSerializer<UsageEvent> serializer = new AvroSerializer<>(registry);

        byte[] first = serializer.serialize(TOPIC, anEvent().build());
        byte[] second = new AvroSerializer<UsageEvent>(registry).serialize(TOPIC, anEvent().org("other").build());

        assertThat(Arrays.copyOf(first, 5)).containsExactly(0, 0, 0, 0, 1);
        assertThat(Arrays.copyOf(second, 5)).containsExactly(0, 0, 0, 0, 1);
        assertThat(registry.getLatestVersion(TOPIC + "-value").version()).isEqualTo(1);
    }

    @Test
    void shouldReadGenericRecordWithWriterSchema() {
        byte[] bytes = new AvroSerializer<UsageEvent>(registry).serialize(TOPIC, anEvent().tokens(7, 8).build());

        GenericRecord read = new AvroDeserializer<GenericRecord>(registry).deserialize(TOPIC, bytes);

        assertThat(read.getSchema()).isEqualTo(UsageEvent.getClassSchema());
        assertThat(read.get("orgId").toString()).isEqualTo("acme");
        assertThat(read.get("occurredAt")).isEqualTo(1_700_000_000_000L);
        assertThat(read.get("inputTokens")).isEqualTo(7L);
    }

    @Test
    void shouldReadSpecificClassNamedByWriterSchemaWhenConfigured() {
        byte[] bytes = new AvroSerializer<UsageEvent>(registry).serialize(TOPIC, anEvent().build());
        AvroDeserializer<Object> deserializer = new AvroDeserializer<>(registry, Map.of("specific.avro.reader", "true"), false);

        assertThat(deserializer.deserialize(TOPIC, bytes)).isEqualTo(anEvent().build());
    }

    @Test
    void shouldReadNewerWriterWithOldReader() {
        GenericRecord v2 = v2Record(anEvent().build(), "us");
        byte[] bytes = new AvroSerializer<GenericRecord>(registry).serialize(TOPIC, v2);

        UsageEvent read = new AvroDeserializer<UsageEvent>(registry, UsageEvent.class).deserialize(TOPIC, bytes);

        assertThat(read).isEqualTo(anEvent().build());
        assertThat(registry.getLatestVersion(TOPIC + "-value").version()).isEqualTo(1);
    }

    @Test
    void shouldReadOldWriterWithNewerReaderFillingTheDefault() {
        byte[] bytes = new AvroSerializer<UsageEvent>(registry).serialize(TOPIC, anEvent().build());

        GenericRecord read = new AvroDeserializer<GenericRecord>(registry, V2).deserialize(TOPIC, bytes);

        assertThat(read.get("region").toString()).isEqualTo("eu");
        assertThat(read.get("orgId").toString()).isEqualTo("acme");
    }

    @Test
    void shouldRegisterEvolvedSchemaAsNewVersionWithNewId() {
        new AvroSerializer<UsageEvent>(registry).serialize(TOPIC, anEvent().build());
        byte[] bytes = new AvroSerializer<GenericRecord>(registry).serialize(TOPIC, v2Record(anEvent().build(), "us"));

        assertThat(Arrays.copyOf(bytes, 5)).containsExactly(0, 0, 0, 0, 2);
        assertThat(registry.getLatestVersion(TOPIC + "-value").version()).isEqualTo(2);
    }

    @Test
    void shouldOnlyLookUpIdWhenAutoRegisterIsOff() {
        AvroSerializer<UsageEvent> serializer = new AvroSerializer<>(registry, Map.of("auto.register.schemas", false), false);

        assertThatThrownBy(() -> serializer.serialize(TOPIC, anEvent().build()))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("cannot get the schema id of dev.metering.avro.UsageEvent in subject " + TOPIC + "-value")
                .hasCauseInstanceOf(SchemaRegistryException.class);

        int id = registry.register(TOPIC + "-value", UsageEvent.getClassSchema());
        assertThat(Arrays.copyOf(serializer.serialize(TOPIC, anEvent().build()), 5)).containsExactly(0, 0, 0, 0, id);
    }

    @Test
    void shouldUseLatestVersionIdWhenConfigured() {
        registry.setCompatibility(TOPIC + "-value", "NONE");
        registry.register(TOPIC + "-value", SchemaBuilder.record("Other").fields().requiredInt("x").endRecord());
        int latest = registry.register(TOPIC + "-value", UsageEvent.getClassSchema());
        AvroSerializer<UsageEvent> serializer = new AvroSerializer<>(registry,
                Map.of("use.latest.version", "true", "auto.register.schemas", "false"), false);

        assertThat(Arrays.copyOf(serializer.serialize(TOPIC, anEvent().build()), 5)).containsExactly(0, 0, 0, 0, latest);
    }

    @Test
    void shouldRefuseUseLatestVersionWhenLatestEncodesDifferently() {
        registry.register(TOPIC + "-value", V2);
        AvroSerializer<UsageEvent> serializer = new AvroSerializer<>(registry, Map.of("use.latest.version", true), false);

        assertThatThrownBy(() -> serializer.serialize(TOPIC, anEvent().build()))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("does not encode like the record's schema dev.metering.avro.UsageEvent");
    }

    @Test
    void shouldWriteSameSchemaAsGenericAndAsSpecificRecord() {
        AvroSerializer<Object> serializer = new AvroSerializer<>(registry);
        UsageEvent event = anEvent().build();
        GenericRecord generic = new AvroDeserializer<GenericRecord>(registry)
                .deserialize(TOPIC, serializer.serialize(TOPIC, event));

        byte[] fromGeneric = serializer.serialize(TOPIC, generic);

        assertThat(fromGeneric).isEqualTo(serializer.serialize(TOPIC, event));
    }

    @Test
    void shouldRefuseNonAvroValues() {
        AvroSerializer<Object> serializer = new AvroSerializer<>(registry);

        assertThatThrownBy(() -> serializer.serialize(TOPIC, "text"))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessage("AvroSerializer serializes Avro records (SpecificRecord or GenericRecord), not java.lang.String");
    }

    @Test
    void shouldRefuseEventMissingRequiredFieldWithSerializationException() {
        UsageEvent noOrg = anEvent().org(null).build();

        assertThatThrownBy(() -> new AvroSerializer<UsageEvent>(registry).serialize(TOPIC, noOrg))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageStartingWith("cannot encode dev.metering.avro.UsageEvent for topic " + TOPIC);
    }

    @Test
    void shouldRefuseBadBooleanSetting() {
        assertThatThrownBy(() -> new AvroSerializer<UsageEvent>(registry, Map.of("auto.register.schemas", "yes"), false))
                .isInstanceOf(org.apache.kafka.common.config.ConfigException.class)
                .hasMessageContaining("auto.register.schemas");
    }

    @Test
    void shouldRequireRegistryUrlWhenConfiguredByClassName() {
        assertThatThrownBy(() -> new AvroSerde<UsageEvent>().configure(Map.of(), false))
                .isInstanceOf(org.apache.kafka.common.config.ConfigException.class)
                .hasMessageContaining("schema.registry.url is required");
    }

    private static GenericRecord v2Record(UsageEvent event, String region) {
        GenericData.Record record = new GenericData.Record(V2);
        for (Schema.Field field : UsageEvent.getClassSchema().getFields()) {
            Object value = event.get(field.pos());
            record.put(field.name(), field.name().equals("occurredAt") ? event.getOccurredAt().toEpochMilli() : value);
        }
        record.put("region", region);
        assertThat(SpecificData.get().validate(V2, record)).isTrue();
        return record;
    }
}
