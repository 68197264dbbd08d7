package dev.metering.streams.pricing;

import static dev.metering.streams.MeteringDriver.version;
import static dev.metering.streams.TestEvents.anEvent;
import static org.assertj.core.api.Assertions.assertThat;

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
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PriceStageTest {

    private static final Instant PRICES_FROM = Instant.parse("2026-01-01T00:00:00Z");
    private static final Instant NOON = Instant.parse("2026-03-10T12:00:00Z");
    private static final Instant DAY = Instant.parse("2026-03-10T00:00:00Z");
    private static final Instant HOUR_10 = Instant.parse("2026-03-10T10:00:00Z");

    @TempDir
    Path stateDir;

    private static MeteringDriver withPriceBook(MeteringDriver driver) {
        // gpt-5: $1.25 / $0.125 / $10 per 1M input / cached input / output tokens
        driver.price("openai", "gpt-5", PRICES_FROM, 1_250_000_000L, 125_000_000L, 10_000_000_000L, null);
        // claude: $3 / $0.30 / $15
        driver.price("anthropic", "claude", PRICES_FROM, 3_000_000_000L, 300_000_000L, 15_000_000_000L, null);
        // a per-unit price: $0.0005 per page
        driver.price("acme", "ocr", PRICES_FROM, 0, 0, 0, 500_000L);
        return driver;
    }

    @Test
    void shouldSumMixedModelsToTheExactFemto() {
        try (MeteringDriver driver = withPriceBook(new MeteringDriver(stateDir))) {
            driver.send(
                    anEvent().org("acme").completion("openai", "gpt-5").tokens(1000, 500).cached(200),
                    anEvent().org("acme").completion("anthropic", "claude").tokens(2000, 100),
                    anEvent().org("acme").completion("openai", "gpt-5").tokens(1, 1).cached(1));

            // 1000 x 1.25e9 + 200 x 1.25e8 + 500 x 1e10 = 6,275,000,000,000
            // + 1 x 1.25e9 + 1 x 1.25e8 + 1 x 1e10    =    11,375,000,000
            UsageWindowTotals gpt = driver.row(WindowGrain.DETAIL, WindowSize.HOUR, HOUR_10, "acme", "", "AI_COMPLETION",
                    "openai", "gpt-5");
            assertThat(gpt.getCostFemtos()).isEqualByComparingTo(new BigDecimal("6286375000000"));
            // 2000 x 3e9 + 100 x 1.5e10 = 7,500,000,000,000
            UsageWindowTotals claude = driver.row(WindowGrain.DETAIL, WindowSize.HOUR, HOUR_10, "acme", "", "AI_COMPLETION",
                    "anthropic", "claude");
            assertThat(claude.getCostFemtos()).isEqualByComparingTo(new BigDecimal("7500000000000"));
            UsageWindowTotals org = driver.orgRow(WindowSize.HOUR, HOUR_10, "acme", "AI_COMPLETION");
            assertThat(org.getCostFemtos()).isEqualByComparingTo(new BigDecimal("13786375000000"));
            assertThat(org.getUnpricedEvents()).isZero();
            assertThat(org.getCachedInputTokens()).isEqualTo(201);
        }
    }

    @Test
    void shouldApplyPriceChangeAtNoonByEachEventsOwnTime() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            // the compacted topic holds one record: the noon price, with the morning price in its history
            driver.price("openai", "gpt-5", NOON, 2_000_000_000L, 0, 4_000_000_000L, null,
                    version(PRICES_FROM, 1_000_000_000L, 0, 2_000_000_000L));
            driver.send(
                    anEvent().org("acme").completion("openai", "gpt-5").tokens(1000, 1000).at(NOON.minusMillis(1)),
                    anEvent().org("acme").completion("openai", "gpt-5").tokens(1000, 1000).at(NOON),
                    // out of order: arrives last, still priced at the morning rate
                    anEvent().org("acme").completion("openai", "gpt-5").tokens(1000, 1000).at(NOON.minus(Duration.ofHours(1))));

            assertThat(driver.orgRow(WindowSize.HOUR, NOON.minus(Duration.ofHours(1)), "acme", "AI_COMPLETION").getCostFemtos())
                    .isEqualByComparingTo(new BigDecimal("6000000000000")); // 2 x (1000 x 1e9 + 1000 x 2e9)
            assertThat(driver.orgRow(WindowSize.HOUR, NOON, "acme", "AI_COMPLETION").getCostFemtos())
                    .isEqualByComparingTo(new BigDecimal("6000000000000")); // 1000 x 2e9 + 1000 x 4e9
            assertThat(driver.orgRow(WindowSize.DAY, DAY, "acme", "AI_COMPLETION").getCostFemtos())
                    .isEqualByComparingTo(new BigDecimal("12000000000000"));
        }
    }

    @Test
    void shouldCountUnknownModelAsUnpricedAndNeverDropIt() {
        try (MeteringDriver driver = withPriceBook(new MeteringDriver(stateDir))) {
            driver.send(
                    anEvent().org("acme").completion("mystery", "m-1").tokens(1000, 500),
                    anEvent().org("acme").completion("openai", "gpt-5").tokens(1000, 0),
                    anEvent().org("acme").feature("CHAT_MESSAGE")); // no tokens, no model: needs no price

            UsageWindowTotals completions = driver.orgRow(WindowSize.HOUR, HOUR_10, "acme", "AI_COMPLETION");
            assertThat(completions.getEvents()).isEqualTo(2);
            assertThat(completions.getUnpricedEvents()).isEqualTo(1);
            assertThat(completions.getInputTokens()).isEqualTo(2000);
            assertThat(completions.getCostFemtos()).isEqualByComparingTo(new BigDecimal("1250000000000"));
            UsageWindowTotals chat = driver.orgRow(WindowSize.HOUR, HOUR_10, "acme", "CHAT_MESSAGE");
            assertThat(chat.getUnpricedEvents()).isZero();
            assertThat(chat.getCostFemtos()).isEqualByComparingTo(BigDecimal.ZERO);
            assertThat(driver.metrics().count("unpriced")).isEqualTo(1);
        }
    }

    @Test
    void shouldPriceUnknownModelWithTheFallbackRateWhenConfigured() {
        TopologyConfig config = TopologyConfig.defaults(Topics.defaults(), Clock.fixed(TestEvents.NOW, ZoneOffset.UTC))
                .withFallbackPricePer1kUsd(new BigDecimal("0.002"));
        try (MeteringDriver driver = withPriceBook(new MeteringDriver(stateDir, config))) {
            driver.send(anEvent().org("acme").completion("mystery", "m-1").tokens(1000, 500).cached(250));

            UsageWindowTotals row = driver.orgRow(WindowSize.HOUR, HOUR_10, "acme", "AI_COMPLETION");
            // $0.002 per 1K tokens = 2,000,000,000 femto-USD per token, for all 1,750 tokens
            assertThat(row.getCostFemtos()).isEqualByComparingTo(new BigDecimal("3500000000000"));
            assertThat(row.getUnpricedEvents()).isZero();
            assertThat(driver.metrics().count("fallback_priced")).isEqualTo(1);
        }
    }

    @Test
    void shouldLetTheProducersCostOverrideThePriceBook() {
        try (MeteringDriver driver = withPriceBook(new MeteringDriver(stateDir))) {
            driver.send(anEvent().org("acme").completion("openai", "gpt-5").tokens(1000, 500).costNanos(1234L));

            assertThat(driver.orgRow(WindowSize.HOUR, HOUR_10, "acme", "AI_COMPLETION").getCostFemtos())
                    .isEqualByComparingTo(new BigDecimal("1234000000"));
        }
    }

    @Test
    void shouldPriceQuantityWithThePerUnitPrice() {
        try (MeteringDriver driver = withPriceBook(new MeteringDriver(stateDir))) {
            driver.send(anEvent().org("acme").feature("FILE_UPLOAD").model("acme", "ocr").quantity(3));

            UsageWindowTotals row = driver.orgRow(WindowSize.HOUR, HOUR_10, "acme", "FILE_UPLOAD");
            assertThat(row.getQuantity()).isEqualTo(3);
            assertThat(row.getCostFemtos()).isEqualByComparingTo(new BigDecimal("1500000000000")); // 3 x 500,000 x 1e6
        }
    }

    @Test
    void shouldTreatEventBeforeTheFirstPriceVersionAsUnpriced() {
        try (MeteringDriver driver = new MeteringDriver(stateDir)) {
            driver.price("openai", "gpt-5", NOON, 1_000_000_000L, 0, 0, null);
            driver.send(anEvent().org("acme").completion("openai", "gpt-5").tokens(10, 0).at(HOUR_10));

            assertThat(driver.orgRow(WindowSize.HOUR, HOUR_10, "acme", "AI_COMPLETION").getUnpricedEvents()).isEqualTo(1);
        }
    }
}
