package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.metering.events.config.ConfigException;
import dev.metering.events.config.ConfigSource;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SinkConfigTest {

    @Test
    void shouldReportEveryProblemAtOnce() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> SinkConfig.from(ConfigSource.of(Map.of(
                "METERING_DB_URL", "postgres://localhost/metering",
                "METERING_SINK_BATCH_SIZE", "0",
                "METERING_SINK_BATCH_LINGER", "soon",
                "METERING_SINK_HEARTBEAT", "0s"))));

        assertThat(e.problems()).hasSize(6).anySatisfy(p -> assertThat(p).startsWith("METERING_KAFKA_BOOTSTRAP"))
                .anySatisfy(p -> assertThat(p).startsWith("METERING_SCHEMA_REGISTRY_URL"))
                .anySatisfy(p -> assertThat(p).startsWith("METERING_DB_URL"))
                .anySatisfy(p -> assertThat(p).startsWith("METERING_SINK_BATCH_SIZE"))
                .anySatisfy(p -> assertThat(p).startsWith("METERING_SINK_BATCH_LINGER"))
                .anySatisfy(p -> assertThat(p).startsWith("METERING_SINK_HEARTBEAT"));
    }

    @Test
    void shouldApplyDefaultsAndPassKafkaPropertiesThrough() {
        SinkConfig config = SinkConfig.from(ConfigSource.of(Map.of(
                "METERING_KAFKA_BOOTSTRAP", "broker:9092",
                "METERING_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "METERING_SCHEMA_REGISTRY_URL", "http://registry:8081",
                "METERING_DB_URL", "jdbc:postgresql://db/metering")));

        assertThat(config.topics().aggregates()).isEqualTo("metering.usage.aggregates");
        assertThat(config.batchSize()).isEqualTo(5000);
        assertThat(config.batchLinger()).isEqualTo(Duration.ofMillis(50));
        assertThat(config.heartbeat()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.metricsPort()).isEqualTo(9402);
        assertThat(config.clientProperties()).containsEntry("bootstrap.servers", "broker:9092")
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("schema.registry.url", "http://registry:8081");
    }

    @Test
    void shouldJoinAsAStaticMemberNamedAfterTheHostUnlessGivenAnInstanceId() {
        Map<String, String> env = new java.util.HashMap<>(Map.of(
                "METERING_KAFKA_BOOTSTRAP", "broker:9092",
                "METERING_SCHEMA_REGISTRY_URL", "http://registry:8081",
                "METERING_DB_URL", "jdbc:postgresql://db/metering",
                "HOSTNAME", "box-1"));
        assertThat(SinkApp.consumerProperties(SinkConfig.from(ConfigSource.of(env))))
                .containsEntry("group.instance.id", "box-1")
                .containsEntry("session.timeout.ms", 10_000)
                .containsEntry("heartbeat.interval.ms", 1000);

        env.put("METERING_SINK_INSTANCE_ID", "sink-b");
        env.put("METERING_SINK_SESSION_TIMEOUT", "30s");
        assertThat(SinkApp.consumerProperties(SinkConfig.from(ConfigSource.of(env))))
                .containsEntry("group.instance.id", "sink-b")
                .containsEntry("session.timeout.ms", 30_000)
                .containsEntry("heartbeat.interval.ms", 3000);
    }

    @Test
    void shouldReadTheHeartbeatAndRefuseOneThatIsNotADuration() {
        Map<String, String> env = Map.of(
                "METERING_KAFKA_BOOTSTRAP", "broker:9092",
                "METERING_SCHEMA_REGISTRY_URL", "http://registry:8081",
                "METERING_DB_URL", "jdbc:postgresql://db/metering",
                "METERING_SINK_HEARTBEAT", "750ms");
        assertThat(SinkConfig.from(ConfigSource.of(env)).heartbeat()).isEqualTo(Duration.ofMillis(750));

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> SinkConfig.from(ConfigSource.of(
                Map.of("METERING_KAFKA_BOOTSTRAP", "broker:9092",
                        "METERING_SCHEMA_REGISTRY_URL", "http://registry:8081",
                        "METERING_DB_URL", "jdbc:postgresql://db/metering",
                        "METERING_SINK_HEARTBEAT", "often"))));
        assertThat(e.problems()).singleElement().asString().startsWith("METERING_SINK_HEARTBEAT");
    }

    @Test
    void shouldNeverLetPassThroughPropertiesWeakenTheCommitOrdering() {
        SinkConfig config = SinkConfig.from(ConfigSource.of(Map.of(
                "METERING_KAFKA_BOOTSTRAP", "broker:9092",
                "METERING_KAFKA_ENABLE_AUTO_COMMIT", "true",
                "METERING_KAFKA_ISOLATION_LEVEL", "read_uncommitted",
                "METERING_SCHEMA_REGISTRY_URL", "http://registry:8081",
                "METERING_DB_URL", "jdbc:postgresql://db/metering")));

        assertThat(SinkApp.consumerProperties(config))
                .containsEntry("enable.auto.commit", false)
                .containsEntry("isolation.level", "read_committed");
    }

    @Test
    void shouldWatchTheStreamsApplicationIdStreamsUsesAndRefuseAnInvalidOne() {
        Map<String, String> base = Map.of(
                "METERING_KAFKA_BOOTSTRAP", "broker:9092",
                "METERING_SCHEMA_REGISTRY_URL", "http://registry:8081",
                "METERING_DB_URL", "jdbc:postgresql://db/metering");
        SinkConfig defaults = SinkConfig.from(ConfigSource.of(base));
        assertThat(defaults.streamsApplicationId()).isEqualTo("metering-streams");
        assertThat(defaults.maxStaleness()).isEqualTo(Duration.ofSeconds(60));

        Map<String, String> env = new java.util.HashMap<>(base);
        env.put("METERING_STREAMS_APPLICATION_ID", "billing-streams-eu");
        env.put("METERING_MAX_STALENESS", "30s");
        SinkConfig config = SinkConfig.from(ConfigSource.of(env));
        assertThat(config.streamsApplicationId()).isEqualTo("billing-streams-eu");
        assertThat(config.maxStaleness()).isEqualTo(Duration.ofSeconds(30));

        env.put("METERING_STREAMS_APPLICATION_ID", "metering streams");
        env.put("METERING_MAX_STALENESS", "0s");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> SinkConfig.from(ConfigSource.of(env)));
        assertThat(e.problems()).hasSize(2)
                .anySatisfy(p -> assertThat(p).startsWith("METERING_STREAMS_APPLICATION_ID"))
                .anySatisfy(p -> assertThat(p).startsWith("METERING_MAX_STALENESS"));
        assertThat(SinkApp.adminProperties(config)).containsEntry("bootstrap.servers", "broker:9092")
                .doesNotContainKey("schema.registry.url");
    }
}
