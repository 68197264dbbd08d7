package dev.metering.events;

import static dev.metering.events.UsageEventFixtures.CLOCK;
import static dev.metering.events.UsageEventFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.devstack.MutableClock;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class UsageEventsTest {

    @Test
    void shouldFillIdAndTimeAndSchemaDefaults() {
        UsageEvent event = UsageEvents.builder(CLOCK, () -> new UUID(0, 7)).org("acme").feature("CHAT_MESSAGE").build();

        assertThat(event).isEqualTo(new UsageEvent("00000000-0000-0000-0000-000000000007", "acme", T0, "CHAT_MESSAGE",
                null, null, null, null, null, 1L, 0L, 0L, 0L, null, Map.of(), 0L, 0L, null));
    }

    @Test
    void shouldSetEveryField() {
        UsageEvent event = UsageEvents.builder(CLOCK).eventId("e1").org("acme").feature("AI_COMPLETION")
                .user("u1").conversation("c1").model("openai", "gpt-5").source("web").quantity(2).tokens(100, 50)
                .cachedInputTokens(20).costNanos(1234L).attribute("plan", "pro").at(Instant.EPOCH)
                .cacheWriteTokens(30).reasoningTokens(40).serviceTier("batch").build();

        assertThat(event).isEqualTo(new UsageEvent("e1", "acme", Instant.EPOCH, "AI_COMPLETION", "u1", "c1", "openai",
                "gpt-5", "web", 2L, 100L, 50L, 20L, 1234L, Map.of("plan", "pro"), 30L, 40L, "batch"));
    }

    @Test
    void shouldAssignIdAndTimeOnceSoRetriesReuseThem() {
        MutableClock clock = new MutableClock(T0);
        UsageEvents.Builder builder = UsageEvents.builder(clock).org("acme").feature("CHAT_MESSAGE");

        UsageEvent first = builder.build();
        clock.set(T0.plusSeconds(30));
        UsageEvent retry = builder.build();

        assertThat(retry.getEventId()).isEqualTo(first.getEventId());
        assertThat(retry.getOccurredAt()).isEqualTo(T0);
        assertThat(UUID.fromString(first.getEventId()).version()).isEqualTo(4);
    }

    @Test
    void shouldGiveEachBuilderItsOwnId() {
        UsageEvent a = UsageEvents.builder(CLOCK).org("acme").feature("CHAT_MESSAGE").build();
        UsageEvent b = UsageEvents.builder(CLOCK).org("acme").feature("CHAT_MESSAGE").build();

        assertThat(a.getEventId()).isNotEqualTo(b.getEventId());
    }
}
