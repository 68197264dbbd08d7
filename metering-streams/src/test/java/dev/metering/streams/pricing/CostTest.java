package dev.metering.streams.pricing;

import static dev.metering.streams.TestEvents.anEvent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.events.pricing.Cost;
import dev.metering.events.pricing.PriceVersionNanos;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CostTest {

    @Test
    void shouldStayExactBeyondTheRangeOfALong() {
        // 10^9 tokens of each kind at $100,000 per 1M tokens: 3 x 10^9 x 10^14 femto-USD = 3 x 10^23
        PriceVersionNanos absurd = new PriceVersionNanos(0, 100_000_000_000_000L, 100_000_000_000_000L, 100_000_000_000_000L, null);

        BigInteger cost = Cost.of(anEvent().tokens(1_000_000_000L, 1_000_000_000L).cached(1_000_000_000L).build(), absurd);

        assertThat(cost).isEqualTo(new BigInteger("300000000000000000000000"));
    }

    @Test
    void shouldPriceOneTokenAtItsPerMillionPriceInFemtos() {
        PriceVersionNanos gpt = new PriceVersionNanos(0, 1_250_000_000L, 125_000_000L, 10_000_000_000L, 2L);

        assertThat(Cost.of(anEvent().tokens(1, 1).cached(1).quantity(3).build(), gpt))
                .isEqualTo(BigInteger.valueOf(1_250_000_000L + 125_000_000L + 10_000_000_000L + 3 * 2 * 1_000_000L));
        assertThat(Cost.ofNanos(7)).isEqualTo(BigInteger.valueOf(7_000_000L));
    }
    // claude-sonnet-4-5 style: $3 input, $0.30 cache read, $3.75 cache write, $15 output; above 200k prompt
    // tokens $6 / $0.60 / $7.50 / $22.50; batch 0.5x, priority 1.8x
    private static final PriceVersionNanos.ContextTier LONG = new PriceVersionNanos.ContextTier(200_000, 6_000_000_000L,
            600_000_000L, 7_500_000_000L, 22_500_000_000L);
    private static final PriceVersionNanos SONNET = new PriceVersionNanos(0, 3_000_000_000L, 300_000_000L, 15_000_000_000L, null,
            3_750_000_000L, List.of(LONG), Map.of("batch", new BigDecimal("0.5"), "priority", new BigDecimal("1.8")));

    @Test
    void shouldPriceCacheWritesAtTheCacheWritePrice() {
        Cost.Quote q = Cost.quote(anEvent().tokens(1000, 100).cached(500).cacheWrite(2000).build(), SONNET);

        // 1000 x 3e9 + 500 x 3e8 + 2000 x 3.75e9 + 100 x 1.5e10
        assertThat(q).isEqualTo(new Cost.Quote(BigInteger.valueOf(12_150_000_000_000L), null, null));
    }

    @Test
    void shouldPriceCacheWritesAtTheInputPriceWhenTheVersionHasNoCacheWritePrice() {
        PriceVersionNanos gpt = new PriceVersionNanos(0, 1_250_000_000L, 125_000_000L, 10_000_000_000L, null);

        assertThat(Cost.of(anEvent().tokens(10, 0).cacheWrite(30).build(), gpt))
                .isEqualTo(BigInteger.valueOf(40 * 1_250_000_000L));
    }

    @Test
    void shouldKeepTheBasePricesForAPromptOfExactlyTheThreshold() {
        // prompt = 150,000 input + 40,000 cached + 10,000 cache write = 200,000: not above 200,000
        Cost.Quote q = Cost.quote(anEvent().tokens(150_000, 1000).cached(40_000).cacheWrite(10_000).build(), SONNET);

        // 150,000 x 3e9 + 40,000 x 3e8 + 10,000 x 3.75e9 + 1000 x 1.5e10
        assertThat(q).isEqualTo(new Cost.Quote(BigInteger.valueOf(514_500_000_000_000L), null, null));
    }

    @Test
    void shouldPriceTheWholeRequestAtTheTierOneTokenAboveTheThreshold() {
        Cost.Quote q = Cost.quote(anEvent().tokens(150_001, 1000).cached(40_000).cacheWrite(10_000).build(), SONNET);

        // 150,001 x 6e9 + 40,000 x 6e8 + 10,000 x 7.5e9 + 1000 x 2.25e10
        assertThat(q).isEqualTo(new Cost.Quote(BigInteger.valueOf(1_021_506_000_000_000L), 200_000L, null));
    }

    @Test
    void shouldApplyTheHighestTierWhoseThresholdThePromptExceeds() {
        PriceVersionNanos.ContextTier million = new PriceVersionNanos.ContextTier(1_000_000, 10_000_000_000L, 1_000_000_000L, null,
                40_000_000_000L);
        PriceVersionNanos tiered = new PriceVersionNanos(0, 1_000_000_000L, 100_000_000L, 5_000_000_000L, null, null,
                List.of(million, LONG), Map.of());

        assertThat(Cost.quote(anEvent().tokens(1_000_000, 0).build(), tiered))
                .isEqualTo(new Cost.Quote(BigInteger.valueOf(1_000_000 * 6_000_000_000L), 200_000L, null));
        // the million tier has no cache-write price: its cache writes cost its own input price
        assertThat(Cost.quote(anEvent().tokens(1_000_000, 2).cacheWrite(1).build(), tiered))
                .isEqualTo(new Cost.Quote(BigInteger.valueOf(1_000_001 * 10_000_000_000L + 2 * 40_000_000_000L),
                        1_000_000L, null));
    }

    @Test
    void shouldMultiplyTheWholeCostByTheServiceTierAfterCacheWrites() {
        Cost.Quote q = Cost.quote(anEvent().tokens(1000, 100).cached(500).cacheWrite(2000).serviceTier("batch").build(),
                SONNET);

        assertThat(q).isEqualTo(new Cost.Quote(BigInteger.valueOf(6_075_000_000_000L), null, "batch"));
    }

    @Test
    void shouldCombineContextTierAndServiceTier() {
        Cost.Quote q = Cost.quote(anEvent().tokens(200_001, 10).serviceTier("Priority").build(), SONNET);

        // (200,001 x 6e9 + 10 x 2.25e10) x 1.8
        assertThat(q).isEqualTo(new Cost.Quote(BigInteger.valueOf(2_160_415_800_000_000L), 200_000L, "priority"));
    }

    @Test
    void shouldRoundAHalfFemtoFromAMultiplierOnceHalfEven() {
        PriceVersionNanos femto = new PriceVersionNanos(0, 1, 1, 1, null, null, List.of(), Map.of("batch", new BigDecimal("0.5")));

        assertThat(Cost.of(anEvent().tokens(3, 0).serviceTier("batch").build(), femto)).isEqualTo(BigInteger.TWO); // 1.5
        assertThat(Cost.of(anEvent().tokens(5, 0).serviceTier("batch").build(), femto)).isEqualTo(BigInteger.TWO); // 2.5
        assertThat(Cost.of(anEvent().tokens(4, 0).serviceTier("batch").build(), femto)).isEqualTo(BigInteger.TWO); // exact
    }

    @Test
    void shouldPayStandardPricesForAServiceTierTheVersionDoesNotName() {
        Cost.Quote q = Cost.quote(anEvent().tokens(1000, 100).serviceTier("scale").build(), SONNET);

        assertThat(q).isEqualTo(new Cost.Quote(BigInteger.valueOf(4_500_000_000_000L), null, null));
    }

    @Test
    void shouldNotPriceReasoningTokensTwice() {
        BigInteger withoutReasoning = Cost.of(anEvent().tokens(100, 1000).build(), SONNET);

        assertThat(Cost.of(anEvent().tokens(100, 1000).reasoning(800).build(), SONNET))
                .isEqualTo(withoutReasoning)
                .isEqualTo(BigInteger.valueOf(100 * 3_000_000_000L + 1000 * 15_000_000_000L));
    }

    @Test
    void shouldPriceCacheWritesWithTheFallbackRateLikeEveryOtherToken() {
        assertThat(Cost.ofFallback(anEvent().tokens(1, 2).cached(3).cacheWrite(4).build(), BigInteger.TEN))
                .isEqualTo(BigInteger.valueOf(100));
    }
}
