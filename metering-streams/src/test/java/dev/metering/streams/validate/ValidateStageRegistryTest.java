package dev.metering.streams.validate;

import static dev.metering.streams.TestEvents.anEvent;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.UsageEvent;
import dev.metering.events.DeadLetterHeaders.Reason;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryException;
import dev.metering.events.registry.SchemaVersion;
import dev.metering.events.serde.AvroDeserializer;
import dev.metering.events.serde.AvroSerializer;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.TestEvents;
import dev.metering.streams.metrics.PrometheusMeteringMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

/** How the validate stage tells a registry outage (wait, never count past) from a refused schema (dead letter). */
class ValidateStageRegistryTest {

    private static final String TOPIC = "metering.usage.events";
    private static final Clock CLOCK = Clock.fixed(TestEvents.NOW, ZoneOffset.UTC);

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final byte[] value = new AvroSerializer<UsageEvent>(registry).serialize(TOPIC, anEvent().org("acme").build());
    private final List<Duration> sleeps = new ArrayList<>();
    private final MockProcessorContext<String, MeteredEvent> context = new MockProcessorContext<>();

    /** A registry that answers with {@code failure} for the first {@code failures} look-ups by id. */
    private SchemaRegistryClient failing(int failures, SchemaRegistryException failure, AtomicInteger lookups) {
        return new SchemaRegistryClient() {
            @Override
            public Schema getSchemaById(int id) {
                if (lookups.incrementAndGet() <= failures) {
                    throw failure;
                }
                return registry.getSchemaById(id);
            }

            @Override
            public int register(String subject, Schema schema) {
                return registry.register(subject, schema);
            }

            @Override
            public int getId(String subject, Schema schema) {
                return registry.getId(subject, schema);
            }

            @Override
            public SchemaVersion getLatestVersion(String subject) {
                return registry.getLatestVersion(subject);
            }

            @Override
            public SchemaVersion getVersion(String subject, int version) {
                return registry.getVersion(subject, version);
            }

            @Override
            public boolean testCompatibility(String subject, Schema schema) {
                return registry.testCompatibility(subject, schema);
            }

            @Override
            public String getCompatibility(String subject) {
                return registry.getCompatibility(subject);
            }

            @Override
            public void setCompatibility(String subject, String level) {
                registry.setCompatibility(subject, level);
            }
        };
    }

    private ValidateStage stage(SchemaRegistryClient client, Duration wait) {
        ValidateStage stage = new ValidateStage(new AvroDeserializer<>(client, UsageEvent.class), CLOCK,
                new PrometheusMeteringMetrics(new PrometheusRegistry(), CLOCK), wait, sleeps::add);
        stage.init(context);
        context.setRecordMetadata(TOPIC, 0, 42);
        return stage;
    }

    private Record<byte[], byte[]> record() {
        return new Record<>("acme".getBytes(UTF_8), value, TestEvents.NOW.toEpochMilli());
    }

    @Test
    void shouldWaitOutAShortRegistryOutageAndCountTheRecordOnce() {
        AtomicInteger lookups = new AtomicInteger();
        ValidateStage stage = stage(failing(3, new SchemaRegistryException(503, 50301, "unavailable", "GET /schemas/ids/1"),
                lookups), Duration.ofSeconds(4));

        stage.process(record());

        assertThat(context.forwarded()).hasSize(1);
        assertThat(context.forwarded().get(0).record().value().isRefused()).isFalse();
        assertThat(sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400));
        assertThat(lookups.get()).isEqualTo(4);
    }

    @Test
    void shouldGiveTheRecordBackWhenTheRegistryStaysUnreachableAndForwardNothing() {
        AtomicInteger lookups = new AtomicInteger();
        ValidateStage stage = stage(failing(Integer.MAX_VALUE, new SchemaRegistryException("GET /schemas/ids/1 to "
                + "http://registry failed: java.net.ConnectException", new java.net.ConnectException()), lookups),
                Duration.ZERO);

        assertThatThrownBy(() -> stage.process(record()))
                .isInstanceOf(RegistryUnavailableException.class)
                .hasMessageStartingWith("schema registry unavailable for PT0S while decoding metering.usage.events-0@42");
        assertThat(context.forwarded()).isEmpty();
    }

    @Test
    void shouldTreatTooManyRequestsAsAnOutage() {
        AtomicInteger lookups = new AtomicInteger();
        ValidateStage stage = stage(failing(Integer.MAX_VALUE, new SchemaRegistryException(429, 429, "slow down",
                "GET /schemas/ids/1"), lookups), Duration.ZERO);

        assertThatThrownBy(() -> stage.process(record())).isInstanceOf(RegistryUnavailableException.class);
        assertThat(context.forwarded()).isEmpty();
    }

    @Test
    void shouldDeadLetterARecordWhoseSchemaTheRegistryRefusesWithItsAnswer() {
        AtomicInteger lookups = new AtomicInteger();
        ValidateStage stage = stage(failing(Integer.MAX_VALUE, new SchemaRegistryException(403, 40301,
                "User cannot access the resource.", "GET /schemas/ids/1"), lookups), Duration.ofSeconds(4));

        stage.process(record());

        MeteredEvent out = context.forwarded().get(0).record().value();
        assertThat(out.refusal().reason()).isEqualTo(Reason.UNKNOWN_SCHEMA);
        assertThat(out.refusal().message()).isEqualTo("schema id 1 gives no usable Avro schema: GET /schemas/ids/1 "
                + "failed: HTTP 403, error_code 40301: User cannot access the resource.");
        assertThat(sleeps).isEmpty();
        assertThat(lookups.get()).isEqualTo(1);
    }

    @Test
    void shouldDeadLetterARecordWhoseSchemaIsOfAnotherType() {
        AtomicInteger lookups = new AtomicInteger();
        ValidateStage stage = stage(failing(Integer.MAX_VALUE, SchemaRegistryException.unusableAnswer(200,
                "GET /schemas/ids/1 returned a \"JSON\" schema, not AVRO", null), lookups), Duration.ofSeconds(4));

        stage.process(record());

        MeteredEvent out = context.forwarded().get(0).record().value();
        assertThat(out.refusal().reason()).isEqualTo(Reason.UNKNOWN_SCHEMA);
        assertThat(out.refusal().message()).endsWith("returned a \"JSON\" schema, not AVRO");
        assertThat(sleeps).isEmpty();
    }
}
