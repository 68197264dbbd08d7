package dev.metering.api.price;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.events.pricing.Cost;
import dev.metering.events.pricing.PriceSchedule;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The ingest estimate against the pipeline's own pricing (Cost on the published record, as the streams price stage reads it). */
class CostEstimatorTest {

    private static final Instant V1 = Instant.parse("2025-01-01T00:00:00Z");
    private static final Instant V2 = Instant.parse("2026-01-01T00:00:00Z");
    private static final List<PriceVersion> BOOK = List.of(
            new PriceVersion("openai", "gpt-5", V1, new BigDecimal("1.25"), new BigDecimal("0.125"), new BigDecimal("10"),
                    null),
            new PriceVersion("openai", "gpt-5", V2, new BigDecimal("1.1"), new BigDecimal("0.11"), new BigDecimal("9"),
                    new BigDecimal("0.000000003"), new BigDecimal("1.375"),
                    List.of(new PriceVersion.ContextTier(200_000, new BigDecimal("2.5"), new BigDecimal("0.25"),
                            new BigDecimal("3.125"), new BigDecimal("15"))),
                    Map.of("batch", new BigDecimal("0.5"), "priority", new BigDecimal("1.75"), "flex", new BigDecimal("0.333333"))));

    private static UsageEvent event(Instant at, String provider, String model, long in, long cached, long write, long out,
                                    long quantity, String tier, Long costNanos) {
        return UsageEvent.newBuilder().setEventId("e").setOrgId("acme").setOccurredAt(at).setFeature("AI_COMPLETION")
                .setProvider(provider).setModel(model).setInputTokens(in).setCachedInputTokens(cached)
                .setCacheWriteTokens(write).setOutputTokens(out).setQuantity(quantity).setServiceTier(tier)
                .setCostNanos(costNanos).build();
    }

    @Test
    void shouldPriceAnEventExactlyByTheVersionInForceAtItsTime() {
        CostEstimator.Book book = new CostEstimator.Book(BOOK);
        // 1000 x 1.25 + 100 x 10 per 1M tokens = 0.00225 USD
        assertThat(book.estimate(event(V2.minusSeconds(1), "openai", "gpt-5", 1000, 0, 0, 100, 1, null, null)))
                .isEqualTo("0.002250000");
        // 1000 x 1.1 + 100 x 9 per 1M + 1 unit x 0.000000003 = 0.002000003 USD
        assertThat(book.estimate(event(V2, "openai", "gpt-5", 1000, 0, 0, 100, 1, null, null))).isEqualTo("0.002000003");
        assertThat(book.estimate(event(V2, "openai", "gpt-5", 1000, 0, 0, 100, 1, null, 42L))).isEqualTo("0.000000042");
        assertThat(book.estimate(event(V2, null, null, 0, 0, 0, 0, 1, null, null))).isEqualTo("0E-9");
        assertThat(book.estimate(event(V2, "acme", "unknown", 10, 0, 0, 0, 1, null, null))).isNull();
        assertThat(book.estimate(event(V1.minusSeconds(1), "openai", "gpt-5", 10, 0, 0, 0, 1, null, null))).isNull();
    }

    @Test
    void shouldEstimateWhatTheStreamsPriceStageComputesForTiersCacheWritesAndServiceTiers() {
        PriceSchedule schedule = PriceSchedule.of(PriceService.toModelPrices(BOOK).get(0));
        CostEstimator.Book book = new CostEstimator.Book(BOOK);
        Random random = new Random(18);
        List<String> tiers = new ArrayList<>(List.of("batch", "PRIORITY", "flex", "standard"));
        tiers.add(null);
        for (int i = 0; i < 2_000; i++) {
            Instant at = random.nextBoolean() ? V1.plusSeconds(random.nextInt(1000)) : V2.plusSeconds(random.nextInt(1000));
            UsageEvent e = event(at, "openai", "gpt-5", random.nextInt(300_000), random.nextInt(50_000),
                    random.nextInt(4) == 0 ? random.nextInt(30_000) : 0, random.nextInt(20_000), 1 + random.nextInt(3),
                    tiers.get(random.nextInt(tiers.size())), null);
            BigInteger femtos = Cost.of(e, schedule.inForceAt(at.toEpochMilli()));
            BigDecimal streams = new BigDecimal(femtos).movePointLeft(15).setScale(9, RoundingMode.HALF_EVEN);
            assertThat(book.estimate(e)).as(e.toString()).isEqualTo(streams);
        }
    }
}
