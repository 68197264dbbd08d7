package dev.metering.events.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigSourceTest {

    enum StalePolicy { FAIL_OPEN, FAIL_CLOSED }

    @ParameterizedTest
    @CsvSource({"500ms,PT0.5S", "60s,PT1M", "15m,PT15M", "48h,PT48H", "7d,PT168H", "0s,PT0S", "PT2H,PT2H"})
    void shouldParseDurations(String text, String expected) {
        ConfigSource source = ConfigSource.of(Map.of("METERING_GRACE", text));

        assertThat(source.duration("METERING_GRACE", Duration.ofHours(48))).isEqualTo(Duration.parse(expected));
        assertThat(source.problems()).isEmpty();
    }

    @Test
    void shouldUseDefaultsForAbsentOrBlankValues() {
        ConfigSource source = ConfigSource.of(Map.of("METERING_API_PORT", "  "));

        assertThat(source.duration("METERING_GRACE", Duration.ofHours(48))).isEqualTo(Duration.ofHours(48));
        assertThat(source.intInRange("METERING_API_PORT", 8080, 1, 65535)).isEqualTo(8080);
        assertThat(source.enumValue("METERING_STALE_POLICY", StalePolicy.class, StalePolicy.FAIL_OPEN)).isEqualTo(StalePolicy.FAIL_OPEN);
        assertThat(source.string("METERING_TOPIC_PREFIX", "metering.")).isEqualTo("metering.");
        source.throwIfInvalid();
    }

    @Test
    void shouldReadTypedValues() {
        ConfigSource source = ConfigSource.of(Map.of(
                "METERING_ENFORCEMENT_CANARY_PERCENT", "25",
                "METERING_STALE_POLICY", "fail-closed",
                "METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD", "0.002",
                "METERING_DEMO", "TRUE",
                "METERING_ADMIN_TOKEN", " secret "));

        assertThat(source.intInRange("METERING_ENFORCEMENT_CANARY_PERCENT", 0, 0, 100)).isEqualTo(25);
        assertThat(source.enumValue("METERING_STALE_POLICY", StalePolicy.class, StalePolicy.FAIL_OPEN)).isEqualTo(StalePolicy.FAIL_CLOSED);
        assertThat(source.decimal("METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD", null)).isEqualTo(new BigDecimal("0.002"));
        assertThat(source.bool("METERING_DEMO", false)).isTrue();
        assertThat(source.requiredString("METERING_ADMIN_TOKEN")).isEqualTo("secret");
        assertThat(source.problems()).isEmpty();
    }

    @Test
    void shouldCollectEveryProblemWithItsVariableName() {
        ConfigSource source = ConfigSource.of(Map.of(
                "METERING_GRACE", "48",
                "METERING_ENFORCEMENT_CANARY_PERCENT", "101",
                "METERING_API_PORT", "http",
                "METERING_STALE_POLICY", "sometimes",
                "METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD", "-1"));

        source.duration("METERING_GRACE", Duration.ofHours(48));
        source.intInRange("METERING_ENFORCEMENT_CANARY_PERCENT", 0, 0, 100);
        source.intInRange("METERING_API_PORT", 8080, 1, 65535);
        source.enumValue("METERING_STALE_POLICY", StalePolicy.class, StalePolicy.FAIL_OPEN);
        source.decimal("METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD", null);
        source.requiredString("METERING_DB_URL");

        assertThatThrownBy(source::throwIfInvalid)
                .isInstanceOf(ConfigException.class)
                .hasMessage("Invalid configuration (6 problems):"
                        + "\n  - METERING_GRACE: '48' is not a duration (use 500ms, 60s, 15m, 48h, 7d)"
                        + "\n  - METERING_ENFORCEMENT_CANARY_PERCENT: '101' is outside 0..100"
                        + "\n  - METERING_API_PORT: 'http' is not a whole number"
                        + "\n  - METERING_STALE_POLICY: 'sometimes' is not one of fail-open|fail-closed"
                        + "\n  - METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD: '-1' must not be negative"
                        + "\n  - METERING_DB_URL: is required");
    }

    @Test
    void shouldReadPropertiesFileWithTheSameKeysOverriddenByEnvironment(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("metering.properties");
        Files.writeString(file, "METERING_GRACE=2h\nMETERING_API_PORT=9000\n");

        ConfigSource source = ConfigSource.fromPropertiesFile(file)
                .overriddenBy(ConfigSource.of(Map.of("METERING_API_PORT", "9100")));

        assertThat(source.duration("METERING_GRACE", Duration.ZERO)).isEqualTo(Duration.ofHours(2));
        assertThat(source.intInRange("METERING_API_PORT", 8080, 1, 65535)).isEqualTo(9100);
    }

    @Test
    void shouldNameUnreadableFile(@TempDir Path dir) {
        assertThatThrownBy(() -> ConfigSource.fromPropertiesFile(dir.resolve("missing.properties")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot read configuration file");
    }

    @Test
    void shouldListAProblemFoundTwiceOnce() {
        // two settings reading one variable (e.g. the Kafka pass-through) find its problem twice
        ConfigSource source = ConfigSource.of(Map.of("METERING_KAFKA_ENABLE_METRICS_PUSH", "true"));
        KafkaClientProperties.kafka(source);
        KafkaClientProperties.kafka(source);
        source.problem("METERING_OTHER", "another problem");

        assertThat(source.problems()).hasSize(2).last().isEqualTo("METERING_OTHER: another problem");
    }
}
