package dev.metering.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.events.config.ConfigException;
import dev.metering.events.config.ConfigSource;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UsageMeterConfigTest {

    @Test
    void shouldBuildIdempotentBoundedProducerProperties() {
        UsageMeterConfig config = UsageMeterConfig.builder("k:9092", "http://r:8081")
                .maxBlock(Duration.ofMillis(500)).requestTimeout(Duration.ofSeconds(1)).deliveryTimeout(Duration.ofSeconds(3))
                .kafkaProperties(Map.of("compression.type", "zstd", "max.block.ms", "60000"))
                .clock(UsageEventFixtures.CLOCK).build();

        assertThat(config.producerProperties()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "bootstrap.servers", "k:9092",
                "client.id", "metering-usage-meter",
                "acks", "all",
                "enable.idempotence", "true",
                "max.block.ms", "500",
                "request.timeout.ms", "1000",
                "delivery.timeout.ms", "3000",
                "linger.ms", "5",
                "compression.type", "zstd"));
        assertThat(config.topics().events()).isEqualTo("metering.usage.events");
        assertThat(config.schemaRegistry()).isEqualTo(Map.of("schema.registry.url", "http://r:8081"));
    }

    @Test
    void shouldReportEveryProblemAtOnce() {
        assertThatThrownBy(() -> UsageMeterConfig.builder(" ", "http://r:8081")
                .maxBlock(Duration.ZERO).requestTimeout(Duration.ofSeconds(10)).deliveryTimeout(Duration.ofSeconds(5))
                .kafkaProperties(Map.of("acks", "1", "enable.idempotence", "false")).build())
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "bootstrapServers is required",
                        "maxBlock must be positive",
                        "deliveryTimeout (PT5S) must be at least requestTimeout + linger (PT10.005S)",
                        "kafkaProperties acks=1: the meter always uses acks=all",
                        "kafkaProperties enable.idempotence=false: the meter is always idempotent"));
    }

    @Test
    void shouldReadMeteringVariables() {
        UsageMeterConfig config = UsageMeterConfig.from(ConfigSource.of(Map.of(
                "METERING_KAFKA_BOOTSTRAP", "broker:9092",
                "METERING_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "METERING_SCHEMA_REGISTRY_URL", "https://sr.example",
                "METERING_SCHEMA_REGISTRY_AUTH", "key:secret",
                "METERING_TOPIC_PREFIX", "acme.",
                "METERING_METER_MAX_BLOCK", "750ms")), UsageEventFixtures.CLOCK);

        assertThat(config.bootstrapServers()).isEqualTo("broker:9092");
        assertThat(config.kafkaProperties()).isEqualTo(Map.of("security.protocol", "SASL_SSL", "enable.metrics.push", "false"));
        assertThat(config.schemaRegistry()).isEqualTo(Map.of(
                "schema.registry.url", "https://sr.example",
                "basic.auth.credentials.source", "USER_INFO",
                "basic.auth.user.info", "key:secret"));
        assertThat(config.topics().events()).isEqualTo("acme.usage.events");
        assertThat(config.maxBlock()).isEqualTo(Duration.ofMillis(750));
        assertThat(config.deliveryTimeout()).isEqualTo(UsageMeterConfig.DEFAULT_DELIVERY_TIMEOUT);
    }

    @Test
    void shouldReportEveryVariableProblemAtOnce() {
        assertThatThrownBy(() -> UsageMeterConfig.from(ConfigSource.of(Map.of(
                "METERING_SCHEMA_REGISTRY_AUTH", "nocolon",
                "METERING_TOPIC_PREFIX", "bad prefix",
                "METERING_METER_MAX_BLOCK", "2 seconds",
                "METERING_METER_DELIVERY_TIMEOUT", "1s")), UsageEventFixtures.CLOCK))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "METERING_KAFKA_BOOTSTRAP: is required",
                        "METERING_SCHEMA_REGISTRY_URL: is required",
                        "METERING_SCHEMA_REGISTRY_AUTH: must be user:password",
                        "METERING_METER_MAX_BLOCK: '2 seconds' is not a duration (use 500ms, 60s, 15m, 48h, 7d)",
                        "METERING_TOPIC_PREFIX: topic prefix 'bad prefix' may only contain [a-zA-Z0-9._-]",
                        "deliveryTimeout (PT1S) must be at least requestTimeout + linger (PT10.005S)"));
    }
}
