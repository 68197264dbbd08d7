package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.app.BenchBaselines.Counters;
import dev.metering.events.UsageEvents;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
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

    @Test
    void shouldPriceAMessageAtTheExamplePriceBooksListPrices() throws Exception {
        Map<String, BenchBaselines.TokenPrices> prices = BenchBaselines.prices(DevCommand.resource("examples/model-prices.csv"));
        Clock clock = Clock.fixed(Instant.parse("2026-12-06T10:00:00Z"), ZoneOffset.UTC);

        // gpt-5: $1.25 input, $0.125 cached input, $10 output per 1M tokens
        long cost = BenchBaselines.cost(UsageEvents.builder(clock).org("o").feature("CHAT_MESSAGE").model("openai", "gpt-5")
                .tokens(1_000, 500).cachedInputTokens(2_000).build(), prices);
        long unknown = BenchBaselines.cost(UsageEvents.builder(clock).org("o").feature("CHAT_MESSAGE")
                .model("acme", "in-house-llm-7b").tokens(1_000, 500).build(), prices);

        assertThat(cost).isEqualTo(1_250_000 + 250_000 + 5_000_000);
        assertThat(unknown).isZero();
    }
}
