package dev.metering.streams.validate;

import static dev.metering.streams.MeteringDriver.header;
import static dev.metering.streams.MeteringDriver.reason;
import static dev.metering.streams.TestEvents.T0;
import static dev.metering.streams.TestEvents.anEvent;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.avro.WindowSize;
import dev.metering.events.DeadLetterHeaders;
import dev.metering.streams.MeteringDriver;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateStageTest {

    private static final Instant HOUR = Instant.parse("2026-03-10T10:00:00Z");

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
    void shouldRouteUndecodableRecordToDlqWithOriginalBytesAndContinue() {
        byte[] key = "acme".getBytes(UTF_8);
        byte[] garbage = {0x7f, 1, 2, 3, 4, 5, 6};
        driver.sendRaw(key, garbage, T0);
        driver.send(anEvent().org("acme"));

        List<TestRecord<byte[], byte[]>> dlq = driver.deadLetters();
        assertThat(dlq).hasSize(1);
        TestRecord<byte[], byte[]> dead = dlq.get(0);
        assertThat(dead.key()).isEqualTo(key);
        assertThat(dead.value()).isEqualTo(garbage);
        assertThat(reason(dead)).isEqualTo("MALFORMED");
        assertThat(header(dead, DeadLetterHeaders.STAGE)).isEqualTo("validate");
        assertThat(header(dead, DeadLetterHeaders.MESSAGE)).contains("magic byte");
        assertThat(header(dead, DeadLetterHeaders.ORIGINAL_TOPIC)).isEqualTo("metering.usage.events");
        assertThat(header(dead, DeadLetterHeaders.ORIGINAL_PARTITION)).isEqualTo("0");
        assertThat(header(dead, DeadLetterHeaders.ORIGINAL_OFFSET)).isEqualTo("0");
        assertThat(header(dead, DeadLetterHeaders.ORIGINAL_TIMESTAMP)).isEqualTo(Long.toString(T0.toEpochMilli()));
        assertThat(driver.orgRow(WindowSize.HOUR, HOUR, "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
        assertThat(driver.metrics().count("MALFORMED")).isEqualTo(1);
    }

    @Test
    void shouldRouteTruncatedAvroBodyToDlqAsMalformed() {
        byte[] valid = driver.encode(anEvent().org("acme").build());
        byte[] truncated = java.util.Arrays.copyOf(valid, 9);
        driver.sendRaw("acme".getBytes(UTF_8), truncated, T0);

        assertThat(driver.deadLetters()).singleElement().satisfies(d -> {
            assertThat(reason(d)).isEqualTo("MALFORMED");
            assertThat(d.value()).isEqualTo(truncated);
        });
    }

    @Test
    void shouldRouteUnknownSchemaIdToDlqAndContinue() {
        byte[] valid = driver.encode(anEvent().org("acme").build());
        byte[] unknownId = valid.clone();
        ByteBuffer.wrap(unknownId).put(0, (byte) 0).putInt(1, 4242);
        driver.sendRaw("acme".getBytes(UTF_8), unknownId, T0);
        driver.send(anEvent().org("acme"));

        assertThat(driver.deadLetters()).singleElement().satisfies(d -> {
            assertThat(reason(d)).isEqualTo("UNKNOWN_SCHEMA");
            assertThat(header(d, DeadLetterHeaders.MESSAGE)).contains("4242");
            assertThat(d.value()).isEqualTo(unknownId);
        });
        assertThat(driver.orgRow(WindowSize.HOUR, HOUR, "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(1);
    }

    @Test
    void shouldRouteInvalidEventToDlqListingEveryProblem() {
        UsageEvent invalid = anEvent().org("acme").feature("chat message").tokens(-5, 0).build();
        driver.send(invalid);

        assertThat(driver.deadLetters()).singleElement().satisfies(d -> {
            assertThat(reason(d)).isEqualTo("INVALID");
            assertThat(header(d, DeadLetterHeaders.MESSAGE))
                    .contains("feature INVALID_FORMAT")
                    .contains("inputTokens NEGATIVE");
            assertThat(d.value()).isEqualTo(driver.encode(invalid));
        });
        assertThat(driver.totals()).isEmpty();
        assertThat(driver.metrics().count("INVALID")).isEqualTo(1);
    }

    @Test
    void shouldRouteEventFromTheFutureToDlqAsInvalid() {
        driver.send(anEvent().org("acme").at(Instant.parse("2026-03-14T00:06:00Z")));

        assertThat(driver.deadLetters()).singleElement()
                .satisfies(d -> assertThat(header(d, DeadLetterHeaders.MESSAGE)).contains("occurredAt IN_FUTURE"));
    }

    @Test
    void shouldRouteNullValueToDlqAsMalformed() {
        driver.sendRaw("acme".getBytes(UTF_8), null, T0);

        assertThat(driver.deadLetters()).singleElement().satisfies(d -> assertThat(reason(d)).isEqualTo("MALFORMED"));
    }

    @Test
    void shouldRekeyRecordWhoseKeyIsNotItsOrgAndCountItOnce() {
        UsageEvent event = anEvent().org("acme").build();
        driver.sendRaw("some-other-key".getBytes(UTF_8), driver.encode(event), T0);
        driver.sendRaw(null, driver.encode(event), T0); // a retry without a key: still a duplicate
        driver.send(anEvent().org("acme"));

        assertThat(driver.orgRow(WindowSize.HOUR, HOUR, "acme", "CHAT_MESSAGE").getEvents()).isEqualTo(2);
        assertThat(driver.metrics().count("duplicates")).isEqualTo(1);
        assertThat(driver.deadLetters()).isEmpty();
    }
}
