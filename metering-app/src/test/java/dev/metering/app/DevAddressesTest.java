package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.events.config.ConfigSource;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevAddressesTest {

    private static final Map<String, String> DEV_ENV = Map.of(
            "METERING_KAFKA_BOOTSTRAP", "127.0.0.1:19092",
            "METERING_SCHEMA_REGISTRY_URL", "http://127.0.0.1:18081/apis/ccompat/v7",
            "METERING_DB_URL", "jdbc:postgresql://127.0.0.1:15433/metering",
            "METERING_DB_USER", "metering",
            "METERING_DB_PASSWORD", "secret",
            "METERING_ADMIN_TOKEN", "dev-abc",
            "METERING_API_PORT", "18080",
            "METERING_STREAMS_STATE_DIR", "/data/streams");

    @TempDir
    Path dir;

    @Test
    void shouldUseDevModesAddressesAndSaySoWhenNoneIsConfigured() {
        DevAddresses.write(dir, DEV_ENV);
        ByteArrayOutputStream notice = new ByteArrayOutputStream();

        ConfigSource source = DevAddresses.source(ConfigSource.of(Map.of("METERING_TOPIC_PREFIX", "x.")), dir,
                new PrintStream(notice, true, StandardCharsets.UTF_8));

        assertThat(source.get("METERING_KAFKA_BOOTSTRAP")).contains("127.0.0.1:19092");
        assertThat(source.get("METERING_DB_URL")).contains("jdbc:postgresql://127.0.0.1:15433/metering");
        assertThat(source.get("METERING_DB_PASSWORD")).contains("secret");
        assertThat(source.get("METERING_ADMIN_TOKEN")).contains("dev-abc");
        assertThat(source.get("METERING_API_URL")).contains("http://127.0.0.1:18080");
        assertThat(source.get("METERING_TOPIC_PREFIX")).contains("x.");
        assertThat(source.get("METERING_STREAMS_STATE_DIR")).as("services' settings stay out").isEmpty();
        assertThat(notice.toString(StandardCharsets.UTF_8)).hasLineCount(1)
                .startsWith("using dev mode's addresses from " + dir.resolve("addresses.properties"));
    }

    @Test
    void shouldIgnoreDevModeWhenAnAddressIsConfigured() {
        DevAddresses.write(dir, DEV_ENV);
        ByteArrayOutputStream notice = new ByteArrayOutputStream();

        ConfigSource source = DevAddresses.source(ConfigSource.of(Map.of("METERING_DB_URL", "jdbc:postgresql://db/x")),
                dir, new PrintStream(notice, true, StandardCharsets.UTF_8));

        assertThat(source.get("METERING_DB_URL")).contains("jdbc:postgresql://db/x");
        assertThat(source.get("METERING_KAFKA_BOOTSTRAP")).isEmpty();
        assertThat(notice.size()).isZero();
    }

    @Test
    void shouldUseTheEnvironmentWhenNoDevModeDirectoryIsHere() {
        ConfigSource source = DevAddresses.source(ConfigSource.of(Map.of()), dir.resolve("missing"), System.err);

        assertThat(source.get("METERING_KAFKA_BOOTSTRAP")).isEmpty();
    }
}
