package dev.metering.events.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaClientPropertiesTest {

    @Test
    void shouldTurnMeteringKafkaVariablesIntoClientProperties() {
        ConfigSource source = ConfigSource.of(Map.of(
                "METERING_KAFKA_BOOTSTRAP", "pkc-1.confluent.cloud:9092",
                "METERING_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "METERING_KAFKA_SASL_MECHANISM", "PLAIN",
                "METERING_KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"k\" password=\"s\";",
                "METERING_SCHEMA_REGISTRY_URL", "https://psrc-1.confluent.cloud",
                "METERING_SCHEMA_REGISTRY_AUTH", "srkey:srsecret",
                "METERING_DB_URL", "jdbc:postgresql://db/metering"));

        assertThat(KafkaClientProperties.passThrough(source)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "bootstrap.servers", "pkc-1.confluent.cloud:9092",
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"k\" password=\"s\";",
                "schema.registry.url", "https://psrc-1.confluent.cloud",
                "basic.auth.credentials.source", "USER_INFO",
                "basic.auth.user.info", "srkey:srsecret",
                "enable.metrics.push", "false"));
        assertThat(source.problems()).isEmpty();
    }

    @Test
    void shouldKeepClientMetricsPushOff() {
        ConfigSource off = ConfigSource.of(Map.of("METERING_KAFKA_ENABLE_METRICS_PUSH", "FALSE"));
        assertThat(KafkaClientProperties.kafka(off)).isEqualTo(Map.of("enable.metrics.push", "FALSE"));
        assertThat(off.problems()).isEmpty();

        ConfigSource on = ConfigSource.of(Map.of("METERING_KAFKA_ENABLE_METRICS_PUSH", "true"));
        assertThat(KafkaClientProperties.kafka(on)).isEqualTo(Map.of("enable.metrics.push", "false"));
        assertThat(on.problems()).containsExactly("METERING_KAFKA_ENABLE_METRICS_PUSH: client metrics push is not "
                + "supported (the services export their metrics on /metrics); leave it unset or false");

        ConfigSource producer = ConfigSource.of(Map.of("METERING_KAFKA_PRODUCER_ENABLE_METRICS_PUSH", "true"));
        assertThat(KafkaClientProperties.kafka(producer)).isEqualTo(Map.of("enable.metrics.push", "false"));
        assertThat(producer.problems()).singleElement().asString()
                .startsWith("METERING_KAFKA_PRODUCER_ENABLE_METRICS_PUSH: client metrics push is not supported");
    }

    @Test
    void shouldReportBadRegistrySettings() {
        ConfigSource source = ConfigSource.of(Map.of(
                "METERING_SCHEMA_REGISTRY_URL", "registry:8081",
                "METERING_SCHEMA_REGISTRY_AUTH", "token-without-colon"));

        assertThat(KafkaClientProperties.schemaRegistry(source)).isEqualTo(Map.of("schema.registry.url", "registry:8081"));
        assertThat(source.problems()).containsExactly(
                "METERING_SCHEMA_REGISTRY_URL: 'registry:8081' must start with http:// or https://",
                "METERING_SCHEMA_REGISTRY_AUTH: must be user:password");
    }
}
