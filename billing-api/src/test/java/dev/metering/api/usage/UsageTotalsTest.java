package dev.metering.api.usage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.plan.Meter;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class UsageTotalsTest {

    @Test
    void shouldCountCacheWriteTokensAsInputInTheTokensMeterOnly() {
        // 100 uncached input, 20 cache reads, 30 output, 400 cache writes
        UsageTotals totals = new UsageTotals(1, 1, 100, 30, 20, BigDecimal.ONE, 400)
                .plus(new UsageTotals(1, 1, 1, 1, 1, BigDecimal.ONE));

        assertThat(totals.value(Meter.TOKENS)).isEqualByComparingTo("553");
        assertThat(totals.value(Meter.INPUT_TOKENS)).isEqualByComparingTo("101");
        assertThat(totals.value(Meter.OUTPUT_TOKENS)).isEqualByComparingTo("31");
        assertThat(totals.cacheWriteTokens()).isEqualTo(400);
    }
}
