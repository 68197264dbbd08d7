package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class WindowUpdateTest {

    @Test
    void shouldConvertFemtosToUsdWithNineDecimals() {
        assertThat(WindowUpdate.costUsd(new BigDecimal("2500000000000"))).isEqualByComparingTo("0.0025")
                .satisfies(v -> assertThat(v.toPlainString()).isEqualTo("0.002500000"));
    }

    @Test
    void shouldRoundTheWindowTotalOnceHalfEven() {
        // 1.5 nano-USD rounds to 2, 2.5 nano-USD rounds to 2 (banker's rounding), 2.500001 to 3
        assertThat(WindowUpdate.costUsd(new BigDecimal("1500000")).toPlainString()).isEqualTo("0.000000002");
        assertThat(WindowUpdate.costUsd(new BigDecimal("2500000")).toPlainString()).isEqualTo("0.000000002");
        assertThat(WindowUpdate.costUsd(new BigDecimal("2500001")).toPlainString()).isEqualTo("0.000000003");
        assertThat(WindowUpdate.costUsd(new BigDecimal("499999")).toPlainString()).isEqualTo("0.000000000");
    }

    @Test
    void shouldKeepLargeTotalsExact() {
        assertThat(WindowUpdate.costUsd(new BigDecimal("123456789012345678901234")).toPlainString())
                .isEqualTo("123456789.012345679");
    }
}
