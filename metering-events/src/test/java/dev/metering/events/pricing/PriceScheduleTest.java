package dev.metering.events.pricing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceVersion;
import dev.metering.avro.UsageEvent;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PriceScheduleTest {

    private static final Instant V1 = Instant.parse("2025-01-01T00:00:00Z");
    private static final Instant V2 = Instant.parse("2026-01-01T00:00:00Z");

    private static UsageEvent event(String provider, String model, long inputTokens) {
        return UsageEvent.newBuilder().setEventId("e").setOrgId("acme").setOccurredAt(V2).setFeature("CHAT_MESSAGE")
                .setProvider(provider).setModel(model).setInputTokens(inputTokens).build();
    }

    @Test
    void shouldFindTheVersionInForceFromTheRecordAndItsHistory() {
        ModelPrice price = ModelPrice.newBuilder().setProvider("openai").setModel("gpt-5").setEffectiveFrom(V2)
                .setInputPer1MNanos(2).setCachedInputPer1MNanos(0).setOutputPer1MNanos(0)
                .setHistory(List.of(ModelPriceVersion.newBuilder().setEffectiveFrom(V1).setInputPer1MNanos(1)
                        .setCachedInputPer1MNanos(0).setOutputPer1MNanos(0).build()))
                .build();
        PriceSchedule schedule = PriceSchedule.of(price);

        assertThat(schedule.inForceAt(V1.toEpochMilli() - 1)).isNull();
        assertThat(schedule.inForceAt(V2.toEpochMilli() - 1).inputPer1MNanos()).isEqualTo(1);
        assertThat(schedule.inForceAt(V2.toEpochMilli()).inputPer1MNanos()).isEqualTo(2);
    }

    @Test
    void shouldKeyAbsentPartsAsEmptyNeverAsTheWordNull() {
        assertThat(PriceSchedule.key("openai", "gpt-5")).isEqualTo("openai/gpt-5");
        assertThat(PriceSchedule.key(null, "gpt-5")).isEqualTo("/gpt-5");
        assertThat(PriceSchedule.key("openai", null)).isEqualTo("openai/");
    }

    @Test
    void shouldTreatOnlyEventsWithoutTokensAndWithoutModelAsFree() {
        assertThat(Cost.isFree(event(null, null, 0))).isTrue();
        assertThat(Cost.isFree(event(null, null, 1))).isFalse();
        assertThat(Cost.isFree(event(null, "gpt-5", 0))).isFalse();
        assertThat(Cost.isFree(event("openai", null, 0))).isFalse();
    }
}
