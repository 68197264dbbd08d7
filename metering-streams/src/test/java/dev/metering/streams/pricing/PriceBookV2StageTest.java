package dev.metering.streams.pricing;

import static dev.metering.streams.TestEvents.anEvent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceContextTier;
import dev.metering.avro.ModelPriceServiceTier;
import dev.metering.avro.ModelPriceVersion;
import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.events.Topics;
import dev.metering.streams.MeteringDriver;
import dev.metering.streams.TestEvents;
import dev.metering.streams.TopologyConfig;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Price book v2 through the whole topology: cache writes, context tiers, service tiers, the version recorded. */
class PriceBookV2StageTest {

    private static final Instant JAN = Instant.parse("2026-01-01T00:00:00Z");
    private static final Instant NOON = Instant.parse("2026-03-10T12:00:00Z");
    private static final Instant HOUR_10 = Instant.parse("2026-03-10T10:00:00Z");
    private static final Instant HOUR_12 = Instant.parse("2026-03-10T12:00:00Z");

    @TempDir
    Path stateDir;

    /**
     * claude-sonnet-4-5 since noon: $3 / $0.30 read / $3.75 write / $15, above 200k prompt tokens $6 /
     * $0.60 / $7.50 / $22.50, batch 0.5x. Before noon (history): $3 / $0.30 / $15 only.
     */
    private static ModelPrice sonnet() {
        ModelPriceVersion morning = ModelPriceVersion.newBuilder().setEffectiveFrom(JAN).setInputPer1MNanos(3_000_000_000L)
                .setCachedInputPer1MNanos(300_000_000L).setOutputPer1MNanos(15_000_000_000L).build();
        return ModelPrice.newBuilder().setProvider("anthropic").setModel("claude-sonnet-4-5").setEffectiveFrom(NOON)
                .setInputPer1MNanos(3_000_000_000L).setCachedInputPer1MNanos(300_000_000L)
                .setOutputPer1MNanos(15_000_000_000L).setCacheWritePer1MNanos(3_750_000_000L)
                .setContextTiers(List.of(new ModelPriceContextTier(200_000L, 6_000_000_000L, 600_000_000L, 7_500_000_000L,
                        22_500_000_000L)))
                .setServiceTiers(List.of(new ModelPriceServiceTier("batch", new BigDecimal("0.500000"))))
                .setHistory(List.of(morning)).build();
    }

    private MeteringDriver driver() {
        TopologyConfig config = TopologyConfig.defaults(Topics.defaults(), Clock.fixed(TestEvents.NOW, ZoneOffset.UTC))
                .withEventLog(true);
        return new MeteringDriver(stateDir, config).price(sonnet());
    }

    @Test
    void shouldPriceEveryCombinationExactlyAndRecordTheVersionUsed() {
        try (MeteringDriver driver = driver()) {
            driver.send(
                    // before noon: the morning version has no cache-write price: cache writes at the input price
                    anEvent().id("morning").completion("anthropic", "claude-sonnet-4-5").tokens(1000, 100).cacheWrite(2000)
                            .at(HOUR_10),
                    anEvent().id("at-threshold").completion("anthropic", "claude-sonnet-4-5").tokens(150_000, 1000)
                            .cached(40_000).cacheWrite(10_000).at(NOON),
                    anEvent().id("above").completion("anthropic", "claude-sonnet-4-5").tokens(150_001, 1000).cached(40_000)
                            .cacheWrite(10_000).at(NOON),
                    anEvent().id("batch").completion("anthropic", "claude-sonnet-4-5").tokens(1000, 100).cached(500)
                            .cacheWrite(2000).serviceTier("batch").at(NOON),
                    anEvent().id("unknown-tier").completion("anthropic", "claude-sonnet-4-5").tokens(1000, 100)
                            .reasoning(60).serviceTier("scale").at(NOON));

            Map<String, PricedUsageEvent> log = driver.pricedEvents().stream().map(kv -> kv.value)
                    .collect(Collectors.toMap(PricedUsageEvent::getEventId, Function.identity()));
            // 1000 x 3e9 + 2000 x 3e9 + 100 x 1.5e10
            assertPriced(log.get("morning"), "10500000000000", JAN, null, null);
            // 150,000 x 3e9 + 40,000 x 3e8 + 10,000 x 3.75e9 + 1000 x 1.5e10: exactly 200,000 is not above it
            assertPriced(log.get("at-threshold"), "514500000000000", NOON, null, null);
            // 150,001 x 6e9 + 40,000 x 6e8 + 10,000 x 7.5e9 + 1000 x 2.25e10
            assertPriced(log.get("above"), "1021506000000000", NOON, 200_000L, null);
            // (1000 x 3e9 + 500 x 3e8 + 2000 x 3.75e9 + 100 x 1.5e10) x 0.5
            assertPriced(log.get("batch"), "6075000000000", NOON, null, "batch");
            // standard prices; the 60 reasoning tokens are a part of the 100 output tokens
            assertPriced(log.get("unknown-tier"), "4500000000000", NOON, null, null);
            assertThat(log.get("unknown-tier").getServiceTier()).isEqualTo("scale");
            assertThat(log.get("unknown-tier").getReasoningTokens()).isEqualTo(60);
            assertThat(log.get("batch").getCacheWriteTokens()).isEqualTo(2000);

            UsageWindowTotals noon = driver.row(WindowGrain.DETAIL, WindowSize.HOUR, HOUR_12, "acme", "", "AI_COMPLETION",
                    "anthropic", "claude-sonnet-4-5");
            assertThat(noon.getCostFemtos()).isEqualByComparingTo(new BigDecimal("1546581000000000"));
            assertThat(noon.getCacheWriteTokens()).isEqualTo(22_000);
            assertThat(noon.getReasoningTokens()).isEqualTo(60);
            assertThat(noon.getInputTokens()).isEqualTo(302_001);
            UsageWindowTotals day = driver.orgRow(WindowSize.DAY, Instant.parse("2026-03-10T00:00:00Z"), "acme",
                    "AI_COMPLETION");
            assertThat(day.getCostFemtos()).isEqualByComparingTo(new BigDecimal("1557081000000000"));
            assertThat(day.getCacheWriteTokens()).isEqualTo(24_000);
            assertThat(day.getReasoningTokens()).isEqualTo(60);
        }
    }

    @Test
    void shouldCarryCacheWriteAndReasoningTokensIntoEveryGrain() {
        try (MeteringDriver driver = driver()) {
            driver.send(anEvent().completion("anthropic", "claude-sonnet-4-5").conversation("c-1").user("u-1")
                    .tokens(10, 50).cacheWrite(7).reasoning(20).at(HOUR_12.plusSeconds(5)));

            List<KeyValue<String, PricedUsageEvent>> log = driver.pricedEvents();
            assertThat(log).hasSize(1);
            assertThat(driver.conversationRow("acme", "c-1", "AI_COMPLETION"))
                    .extracting(UsageWindowTotals::getCacheWriteTokens, UsageWindowTotals::getReasoningTokens)
                    .containsExactly(7L, 20L);
            assertThat(driver.row(WindowGrain.DETAIL, WindowSize.HOUR, HOUR_12, "acme", "u-1", "AI_COMPLETION", "anthropic",
                    "claude-sonnet-4-5"))
                    .extracting(UsageWindowTotals::getCacheWriteTokens, UsageWindowTotals::getReasoningTokens)
                    .containsExactly(7L, 20L);
            assertThat(driver.orgRow(WindowSize.HOUR, HOUR_12, "acme", "AI_COMPLETION"))
                    .extracting(UsageWindowTotals::getCacheWriteTokens, UsageWindowTotals::getReasoningTokens)
                    .containsExactly(7L, 20L);
        }
    }

    private static void assertPriced(PricedUsageEvent e, String femtos, Instant effectiveFrom, Long contextTier,
            String serviceTier) {
        assertThat(e.getCostFemtos()).as(e.getEventId()).isEqualByComparingTo(new BigDecimal(femtos));
        assertThat(e.getPriced()).isTrue();
        assertThat(e.getEffectiveFrom()).as(e.getEventId()).isEqualTo(effectiveFrom);
        assertThat(e.getPriceContextTier()).as(e.getEventId()).isEqualTo(contextTier);
        assertThat(e.getPriceServiceTier()).as(e.getEventId()).isEqualTo(serviceTier);
    }
}
