package dev.metering.events.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.events.Topics;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The readers every service shares: {@link Topics#from} and {@link DbSettings#from}. */
class SharedSettingsTest {

    @Test
    void shouldReadTopicPrefixOrDefault() {
        assertThat(Topics.from(ConfigSource.of(Map.of("METERING_TOPIC_PREFIX", "acme."))).events())
                .isEqualTo("acme.usage.events");
        assertThat(Topics.from(ConfigSource.of(Map.of()))).isEqualTo(Topics.defaults());
    }

    @Test
    void shouldReportIllegalTopicPrefixWithItsVariable() {
        ConfigSource source = ConfigSource.of(Map.of("METERING_TOPIC_PREFIX", "bad prefix"));

        assertThat(Topics.from(source)).isEqualTo(Topics.defaults());
        assertThat(source.problems())
                .containsExactly("METERING_TOPIC_PREFIX: topic prefix 'bad prefix' may only contain [a-zA-Z0-9._-]");
    }

    @Test
    void shouldReadDatabaseSettings() {
        ConfigSource source = ConfigSource.of(Map.of("METERING_DB_URL", "jdbc:postgresql://db:5432/metering",
                "METERING_DB_USER", "metering", "METERING_DB_PASSWORD", "secret"));

        DbSettings db = DbSettings.from(source);

        assertThat(db).isEqualTo(new DbSettings("jdbc:postgresql://db:5432/metering", "metering", "secret"));
        assertThat(db.toString()).doesNotContain("secret");
        assertThat(source.problems()).isEmpty();
    }

    @Test
    void shouldReportMissingOrForeignDatabaseUrl() {
        ConfigSource missing = ConfigSource.of(Map.of());
        ConfigSource foreign = ConfigSource.of(Map.of("METERING_DB_URL", "mysql://db/metering"));

        DbSettings.from(missing);
        DbSettings.from(foreign);

        assertThat(missing.problems()).containsExactly("METERING_DB_URL: is required");
        assertThat(foreign.problems()).containsExactly("METERING_DB_URL: must be a PostgreSQL JDBC URL "
                + "(jdbc:postgresql://host:port/db), got 'mysql://db/metering'");
    }
}
