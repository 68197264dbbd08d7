package dev.metering.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.events.config.ConfigException;
import dev.metering.events.config.ConfigSource;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StreamsAppConfigTest {

    private static final Map<String, String> MINIMAL = Map.of(
            "METERING_KAFKA_BOOTSTRAP", "127.0.0.1:9092",
            "METERING_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081/apis/ccompat/v7");

    @Test
    void shouldApplyTheDocumentedDefaults() {
        StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.of(MINIMAL));

        assertThat(config.topics().events()).isEqualTo("metering.usage.events");
        assertThat(config.grace()).isEqualTo(Duration.ofHours(48));
        assertThat(config.fallbackPricePer1kUsd()).isEmpty();
        assertThat(config.partitions()).isEqualTo(12);
        assertThat(config.guarantee()).isEqualTo(StreamsAppConfig.Guarantee.EXACTLY_ONCE_V2);
        assertThat(config.commitInterval()).isEqualTo(Duration.ofMillis(200));
        assertThat(config.metricsPort()).isEqualTo(9464);
        assertThat(config.stateDir()).isEqualTo(Path.of("metering-streams-state"));
        int processors = Runtime.getRuntime().availableProcessors();
        assertThat(config.threads()).isEqualTo(Math.min(processors, 8));
        assertThat(config.kafkaProperties()).containsEntry("bootstrap.servers", "127.0.0.1:9092")
                .doesNotContainKey("schema.registry.url");
        assertThat(StreamsApp.streamsProperties(config))
                .containsEntry("processing.guarantee", "exactly_once_v2")
                .containsEntry("commit.interval.ms", 1000L)
                .containsEntry("statestore.cache.max.bytes", 64L << 20)
                .containsEntry("max.task.idle.ms", -1L)
                .containsEntry("num.stream.threads", Math.min(processors, 8))
                .containsEntry("application.id", "metering-streams");
        // the timer commits what no emission does: five intervals, at most 5 s, never below one interval
        assertThat(StreamsApp.commitTimerMillis(Duration.ofMillis(200))).isEqualTo(1000L);
        assertThat(StreamsApp.commitTimerMillis(Duration.ofSeconds(2))).isEqualTo(5000L);
        assertThat(StreamsApp.commitTimerMillis(Duration.ofSeconds(30))).isEqualTo(30_000L);
        Map<String, String> oneThread = new java.util.HashMap<>(MINIMAL);
        oneThread.put("METERING_STREAMS_THREADS", "1");
        assertThat(StreamsAppConfig.from(ConfigSource.of(oneThread)).threads()).isEqualTo(1);
    }

    @Test
    void shouldJoinAsAStaticMemberNamedAfterTheHostAndStateDirectory() {
        Map<String, String> env = new java.util.HashMap<>(MINIMAL);
        env.put("HOSTNAME", "box-1");
        env.put("METERING_STREAMS_STATE_DIR", "/var/lib/metering/streams");
        StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.of(env));
        String expected = StreamsAppConfig.defaultInstanceId("box-1", Path.of("/var/lib/metering/streams"));

        assertThat(expected).matches("box-1-[0-9a-f]{8}")
                .isNotEqualTo(StreamsAppConfig.defaultInstanceId("box-1", Path.of("/var/lib/metering/streams-2")));
        assertThat(StreamsApp.streamsProperties(config))
                .containsEntry("group.instance.id", expected)
                .containsEntry("session.timeout.ms", 10_000)
                .containsEntry("heartbeat.interval.ms", 1000);

        env.put("METERING_STREAMS_INSTANCE_ID", "streams-a");
        env.put("METERING_STREAMS_SESSION_TIMEOUT", "20s");
        assertThat(StreamsApp.streamsProperties(StreamsAppConfig.from(ConfigSource.of(env))))
                .containsEntry("group.instance.id", "streams-a")
                .containsEntry("session.timeout.ms", 20_000);
    }

    @Test
    void shouldReadEveryVariableAndPassKafkaPropertiesThrough() {
        Map<String, String> env = new java.util.HashMap<>(MINIMAL);
        env.putAll(Map.of(
                "METERING_TOPIC_PREFIX", "acme.",
                "METERING_GRACE", "6h",
                "METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD", "0.002",
                "METERING_SCHEMA_REGISTRY_AUTH", "key:secret",
                "METERING_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "METERING_STREAMS_PROCESSING_GUARANTEE", "at_least_once",
                "METERING_TOPIC_REPLICATION_FACTOR", "3"));
        StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.of(env));

        assertThat(config.topics().aggregates()).isEqualTo("acme.usage.aggregates");
        assertThat(config.grace()).isEqualTo(Duration.ofHours(6));
        assertThat(config.fallbackPricePer1kUsd()).contains(new BigDecimal("0.002"));
        assertThat(config.clientProperties()).containsEntry("basic.auth.user.info", "key:secret");
        assertThat(config.kafkaProperties()).containsEntry("security.protocol", "SASL_SSL");
        assertThat(config.guarantee()).isEqualTo(StreamsAppConfig.Guarantee.AT_LEAST_ONCE);
        assertThat(config.replicationFactor()).isEqualTo(Optional.of((short) 3));
        assertThat(config.topology(java.time.Clock.systemUTC(), 12).fallbackFemtosPerToken())
                .contains(java.math.BigInteger.valueOf(2_000_000_000L));
    }

    @Test
    void shouldRefuseACommitIntervalLongerThanFiveSecondsWithExactlyOnceOnly() {
        Map<String, String> env = new java.util.HashMap<>(MINIMAL);
        env.put("METERING_STREAMS_COMMIT_INTERVAL", "5s");
        assertThat(StreamsAppConfig.from(ConfigSource.of(env)).commitInterval()).isEqualTo(Duration.ofSeconds(5));

        env.put("METERING_STREAMS_COMMIT_INTERVAL", "6s");
        assertThatThrownBy(() -> StreamsAppConfig.from(ConfigSource.of(env)))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "METERING_STREAMS_COMMIT_INTERVAL: must be at most 5s with exactly_once_v2: each interval's rows go "
                                + "out in one transaction, and the broker aborts a transaction open for 10 s"));

        env.put("METERING_STREAMS_PROCESSING_GUARANTEE", "at_least_once");
        env.put("METERING_STREAMS_COMMIT_INTERVAL", "30s");
        assertThat(StreamsAppConfig.from(ConfigSource.of(env)).commitInterval()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void shouldReportEveryProblemAtOnce() {
        Map<String, String> env = Map.of(
                "METERING_SCHEMA_REGISTRY_URL", "127.0.0.1:8081",
                "METERING_GRACE", "two days",
                "METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD", "0.0000000000001",
                "METERING_TOPIC_PARTITIONS", "0",
                "METERING_STREAMS_PROCESSING_GUARANTEE", "exactly_once",
                "METERING_TOPIC_PREFIX", "bad prefix!",
                "METERING_STREAMS_EMIT_INTERVAL", "0ms",
                "METERING_STREAMS_INSTANCE_ID", "a/b",
                "METERING_STREAMS_SESSION_TIMEOUT", "2h");

        assertThatThrownBy(() -> StreamsAppConfig.from(ConfigSource.of(env)))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.startsWith("METERING_KAFKA_BOOTSTRAP"))
                        .anyMatch(p -> p.startsWith("METERING_SCHEMA_REGISTRY_URL"))
                        .anyMatch(p -> p.startsWith("METERING_GRACE"))
                        .anyMatch(p -> p.startsWith("METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD"))
                        .anyMatch(p -> p.startsWith("METERING_TOPIC_PARTITIONS"))
                        .anyMatch(p -> p.startsWith("METERING_STREAMS_PROCESSING_GUARANTEE"))
                        .anyMatch(p -> p.startsWith("METERING_TOPIC_PREFIX"))
                        .anyMatch(p -> p.startsWith("METERING_STREAMS_EMIT_INTERVAL") && p.contains("no longer used"))
                        .anyMatch(p -> p.startsWith("METERING_STREAMS_INSTANCE_ID"))
                        .anyMatch(p -> p.startsWith("METERING_STREAMS_SESSION_TIMEOUT"))
                        .hasSize(10));
    }
}
