package dev.metering.streams.pricing;

import static dev.metering.streams.TestEvents.anEvent;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class CostTest {

    @Test
    void shouldStayExactBeyondTheRangeOfALong() {
        // 10^9 tokens of each kind at $100,000 per 1M tokens: 3 x 10^9 x 10^14 femto-USD = 3 x 10^23
        PriceVersion absurd = new PriceVersion(0, 100_000_000_000_000L, 100_000_000_000_000L, 100_000_000_000_000L, null);

        BigInteger cost = Cost.of(anEvent().tokens(1_000_000_000L, 1_000_000_000L).cached(1_000_000_000L).build(), absurd);

        assertThat(cost).isEqualTo(new BigInteger("300000000000000000000000"));
    }

    @Test
    void shouldPriceOneTokenAtItsPerMillionPriceInFemtos() {
        PriceVersion gpt = new PriceVersion(0, 1_250_000_000L, 125_000_000L, 10_000_000_000L, 2L);

        assertThat(Cost.of(anEvent().tokens(1, 1).cached(1).quantity(3).build(), gpt))
                .isEqualTo(BigInteger.valueOf(1_250_000_000L + 125_000_000L + 10_000_000_000L + 3 * 2 * 1_000_000L));
        assertThat(Cost.ofNanos(7)).isEqualTo(BigInteger.valueOf(7_000_000L));
    }
}
