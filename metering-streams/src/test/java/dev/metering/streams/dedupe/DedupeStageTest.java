package dev.metering.streams.dedupe;

import static dev.metering.streams.TestEvents.T0;
import static dev.metering.streams.TestEvents.anEvent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowSize;
import dev.metering.streams.MeteringDriver;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DedupeStageTest {

    private static final Instant HOUR = Instant.parse("2026-03-10T10:00:00Z");
    private static final Instant DAY = Instant.parse("2026-03-10T00:00:00Z");

    @TempDir
    Path stateDir;
    MeteringDriver driver;

    @BeforeEach
    void start() {
        driver = new MeteringDriver(stateDir);
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void shouldCountDuplicateEventOnce() {
        UsageEvent event = anEvent().org("acme").id("msg-1").tokens(120, 30).build();
        driver.send(event, event, event);

        UsageWindowTotals hour = driver.orgRow(WindowSize.HOUR, HOUR, "acme", "CHAT_MESSAGE");
        assertThat(hour.getEvents()).isEqualTo(1);
        assertThat(hour.getInputTokens()).isEqualTo(120);
        assertThat(hour.getOutputTokens()).isEqualTo(30);
        assertThat(hour.getVersion()).isEqualTo(1);
        assertThat(driver.orgRow(WindowSize.DAY, DAY, "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
        assertThat(driver.metrics().count("duplicates")).isEqualTo(2);
        assertThat(driver.updates()).hasSize(3); // one update of each of the three rows (detail hour, org hour, org day)
    }

    @Test
    void shouldCountRetryWithReStampedTimeOnce() {
        driver.send(anEvent().org("acme").id("msg-1").at(T0));
        driver.send(anEvent().org("acme").id("msg-1").at(T0.plus(Duration.ofMinutes(10))));

        assertThat(driver.orgRow(WindowSize.HOUR, HOUR, "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
    }

    @Test
    void shouldCountSameEventIdOfTwoOrgsOnceEach() {
        driver.send(anEvent().org("acme").id("msg-1"), anEvent().org("globex").id("msg-1"));

        assertThat(driver.orgRow(WindowSize.HOUR, HOUR, "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
        assertThat(driver.orgRow(WindowSize.HOUR, HOUR, "globex", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
        assertThat(driver.metrics().count("duplicates")).isZero();
    }

    @Test
    void shouldDropDuplicateArrivingAlmostAtTheEndOfGrace() {
        driver.send(anEvent().org("acme").id("msg-1").at(T0));
        // stream time moves to 1 minute before the hour of T0 closes (10:00 + 1 h + 48 h)
        driver.send(anEvent().org("acme").at(Instant.parse("2026-03-12T10:59:00Z")).feature("OTHER"));
        driver.send(anEvent().org("acme").id("msg-1").at(T0));

        assertThat(driver.orgRow(WindowSize.HOUR, HOUR, "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
        assertThat(driver.metrics().count("duplicates")).isEqualTo(1);
        assertThat(driver.deadLetters()).isEmpty();
    }
}
