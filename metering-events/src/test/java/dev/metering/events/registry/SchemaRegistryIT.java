package dev.metering.events.registry;

import static dev.metering.events.UsageEventFixtures.anEvent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.UsageEvent;
import dev.metering.devstack.TestInfra;
import dev.metering.events.serde.AvroDeserializer;
import dev.metering.events.serde.AvroSerializer;
import dev.metering.events.serde.UnknownSchemaException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The registry client and the serde against a real registry: Apicurio's Confluent-compatible API. */
class SchemaRegistryIT {

    /** UsageEvent plus {@code region} with a default: a BACKWARD-compatible evolution. */
    private static final Schema V2 = withField("{\"name\":\"region\",\"type\":\"string\",\"default\":\"eu\"}");
    /** UsageEvent plus a required {@code region} without a default: not BACKWARD compatible. */
    private static final Schema INCOMPATIBLE = withField("{\"name\":\"region\",\"type\":\"string\"}");

    private static String url;

    private final String topic = "it-" + UUID.randomUUID();
    private final String subject = topic + "-value";

    @BeforeAll
    static void startRegistry() {
        url = TestInfra.registry().confluentUrl();
    }

    private static HttpSchemaRegistryClient freshClient() {
        return HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", url));
    }

    @Test
    void shouldReuseIdForSameSchema() {
        int id = freshClient().register(subject, UsageEvent.getClassSchema());

        assertThat(freshClient().register(subject, UsageEvent.getClassSchema())).isEqualTo(id);
        assertThat(freshClient().getId(subject, UsageEvent.getClassSchema())).isEqualTo(id);
        assertThat(freshClient().getLatestVersion(subject)).isEqualTo(new SchemaVersion(subject, 1, id, UsageEvent.getClassSchema()));
        assertThat(freshClient().getVersion(subject, 1).id()).isEqualTo(id);
    }

    @Test
    void shouldLetFreshDeserializerFetchWriterSchemaById() {
        UsageEvent event = anEvent().model("openai", "gpt-5").tokens(1200, 350).attribute("plan", "pro").build();
        byte[] bytes = new AvroSerializer<UsageEvent>(freshClient()).serialize(topic, event);

        HttpSchemaRegistryClient fresh = freshClient();
        UsageEvent read = new AvroDeserializer<UsageEvent>(fresh, UsageEvent.class).deserialize(topic, bytes);

        assertThat(read).isEqualTo(event);
        assertThat(fresh.getSchemaById(schemaId(bytes))).isEqualTo(UsageEvent.getClassSchema());
    }

    @Test
    void shouldCheckCompatibilityAgainstLatestVersion() {
        HttpSchemaRegistryClient client = freshClient();
        assertThat(client.testCompatibility(subject, UsageEvent.getClassSchema())).isTrue();
        client.register(subject, UsageEvent.getClassSchema());
        client.setCompatibility(subject, "BACKWARD");

        assertThat(client.getCompatibility(subject)).isEqualTo("BACKWARD");
        assertThat(client.testCompatibility(subject, V2)).isTrue();
        assertThat(client.testCompatibility(subject, INCOMPATIBLE)).isFalse();
    }

    @Test
    void shouldReadEventWrittenWithNewerSchemaWithOldReader() {
        HttpSchemaRegistryClient client = freshClient();
        client.register(subject, UsageEvent.getClassSchema());
        client.setCompatibility(subject, "BACKWARD");
        UsageEvent event = anEvent().tokens(10, 20).build();

        byte[] bytes = new AvroSerializer<GenericRecord>(freshClient()).serialize(topic, v2(event, "us"));
        UsageEvent read = new AvroDeserializer<UsageEvent>(freshClient(), UsageEvent.class).deserialize(topic, bytes);

        assertThat(read).isEqualTo(event);
        assertThat(freshClient().getLatestVersion(subject).version()).isEqualTo(2);
        assertThat(schemaId(bytes)).isEqualTo(freshClient().getLatestVersion(subject).id());
    }

    @Test
    void shouldReadEventWrittenWithOldSchemaWithNewerReader() {
        UsageEvent event = anEvent().tokens(10, 20).build();
        byte[] bytes = new AvroSerializer<UsageEvent>(freshClient()).serialize(topic, event);
        freshClient().register(subject, V2);

        GenericRecord read = new AvroDeserializer<GenericRecord>(freshClient(), V2).deserialize(topic, bytes);

        assertThat(read.get("region").toString()).isEqualTo("eu");
        assertThat(read.get("eventId").toString()).isEqualTo(event.getEventId());
        assertThat(read.get("inputTokens")).isEqualTo(10L);
    }

    @Test
    void shouldGiveEveryInstanceTheSameIdWhenTheyRegisterANewSubjectAtOnce() throws Exception {
        List<Callable<Integer>> instances = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            instances.add(() -> freshClient().register(subject, UsageEvent.getClassSchema()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Integer> ids = new ArrayList<>();
            for (Future<Integer> f : pool.invokeAll(instances)) {
                ids.add(f.get());
            }
            assertThat(ids).hasSize(8).containsOnly(freshClient().getId(subject, UsageEvent.getClassSchema()));
            // Apicurio may store racing POSTs of one schema as two versions of the same content: one id
            // either way, which is what producers and consumers need
            assertThat(freshClient().getLatestVersion(subject).id()).isEqualTo(ids.get(0));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldRefuseIncompatibleChangeWithRegistryError() {
        HttpSchemaRegistryClient client = freshClient();
        client.register(subject, UsageEvent.getClassSchema());
        client.setCompatibility(subject, "BACKWARD");

        assertThatThrownBy(() -> client.register(subject, INCOMPATIBLE))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.errorCode()).isEqualTo(409);
                    // Confluent: "Schema being registered is incompatible ..."; Apicurio: "... Incompatible artifact: <subject> ..."
                    assertThat(e.registryMessage()).containsIgnoringCase("incompatible");
                    assertThat(e.getMessage()).startsWith("POST /subjects/" + subject + "/versions failed: HTTP 409, error_code 409: ");
                });
        assertThat(client.getLatestVersion(subject).version()).isEqualTo(1);
    }

    @Test
    void shouldReportUnknownSchemaIdAsTyped() {
        byte[] bytes = new AvroSerializer<UsageEvent>(freshClient()).serialize(topic, anEvent().build());
        byte[] unknown = Arrays.copyOf(bytes, bytes.length);
        unknown[1] = 0x7f; // schema id 0x7f..., far beyond anything registered

        assertThatThrownBy(() -> new AvroDeserializer<UsageEvent>(freshClient(), UsageEvent.class).deserialize(topic, unknown))
                .isInstanceOfSatisfying(UnknownSchemaException.class,
                        e -> assertThat(e.schemaId()).isEqualTo(schemaId(unknown)));
    }

    @Test
    void shouldAnswerNotFoundForUnknownSubject() {
        assertThatThrownBy(() -> freshClient().getLatestVersion(subject))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.errorCode()).isEqualTo(40401);
                });
        assertThatThrownBy(() -> freshClient().getId(subject, UsageEvent.getClassSchema()))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.status()).isEqualTo(404));
    }

    private static int schemaId(byte[] bytes) {
        return ((bytes[1] & 0xff) << 24) | ((bytes[2] & 0xff) << 16) | ((bytes[3] & 0xff) << 8) | (bytes[4] & 0xff);
    }

    private static Schema withField(String fieldJson) {
        return new Schema.Parser().parse(UsageEvent.getClassSchema().toString()
                .replace("{\"name\":\"attributes\"", fieldJson + ",{\"name\":\"attributes\""));
    }

    private static GenericRecord v2(UsageEvent event, String region) {
        GenericData.Record record = new GenericData.Record(V2);
        for (Schema.Field field : UsageEvent.getClassSchema().getFields()) {
            record.put(field.name(), field.name().equals("occurredAt")
                    ? event.getOccurredAt().toEpochMilli() : event.get(field.pos()));
        }
        record.put("region", region);
        return record;
    }
}
