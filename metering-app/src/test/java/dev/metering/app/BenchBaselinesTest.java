package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.app.BenchBaselines.Counters;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class BenchBaselinesTest {

    private static final LocalDate TODAY = LocalDate.of(2026, 12, 6);

    @Test
    void shouldRestartTheDailyMessageCountOnANewDay() {
        Counters yesterday = new Counters(200, TODAY.minusDays(1), 200, 0, 1_000, 1_000);

        assertThat(yesterday.messagesToday(TODAY)).isZero();
        assertThat(yesterday.allows(TODAY, 10, 10)).isTrue();
        assertThat(new Counters(200, TODAY, 200, 0, 1_000, 1_000).allows(TODAY, 10, 10)).isFalse();
    }

    @Test
    void shouldRefuseAMessageOverTheTokenLimitOrTheBalance() {
        Counters c = new Counters(0, null, 200, 990, 1_000, 500);

        assertThat(c.allows(TODAY, 10, 500)).isTrue();
        assertThat(c.allows(TODAY, 11, 500)).isFalse();
        assertThat(c.allows(TODAY, 10, 501)).isFalse();
    }
}
