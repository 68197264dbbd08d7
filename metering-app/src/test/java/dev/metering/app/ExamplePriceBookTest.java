package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.metering.api.price.PriceBookFormat;
import dev.metering.api.price.PriceService;
import dev.metering.api.price.PriceVersion;
import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceContextTier;
import dev.metering.avro.ModelPriceServiceTier;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The price book dev mode and bench apply, read by the same parser as {@code PUT /api/v1/prices}. */
class ExamplePriceBookTest {

    @Test
    void shouldParseTheBundledExamplePriceBookIntoExactNanosForEveryModel() throws Exception {
        List<PriceVersion> versions = PriceBookFormat.parseCsv(DevCommand.resource("examples/model-prices.csv"));
        List<ModelPrice> prices = PriceService.toModelPrices(versions);

        assertThat(versions).hasSize(23);
        assertThat(prices).hasSize(23);
        ModelPrice gpt5 = prices.stream().filter(p -> p.getModel().equals("gpt-5")).findFirst().orElseThrow();
        assertThat(gpt5.getProvider()).isEqualTo("openai");
        assertThat(gpt5.getInputPer1MNanos()).isEqualTo(1_250_000_000L);
        assertThat(gpt5.getCachedInputPer1MNanos()).isEqualTo(125_000_000L);
        assertThat(gpt5.getOutputPer1MNanos()).isEqualTo(10_000_000_000L);
        assertThat(gpt5.getUnitNanos()).isNull();
        assertThat(gpt5.getEffectiveFrom()).isEqualTo(Instant.parse("2025-08-07T00:00:00Z"));
        assertThat(gpt5.getHistory()).isEmpty();
    }
    @Test
    void shouldCarryTheExamplesCacheWritePricesContextTiersAndServiceTiers() throws Exception {
        List<ModelPrice> prices = PriceService.toModelPrices(PriceBookFormat.parseCsv(DevCommand.resource("examples/model-prices.csv")));
        ModelPrice sonnet = prices.stream().filter(p -> p.getModel().equals("claude-sonnet-4-5")).findFirst().orElseThrow();
        ModelPrice gemini = prices.stream().filter(p -> p.getModel().equals("gemini-2.5-pro")).findFirst().orElseThrow();
        ModelPrice gpt5 = prices.stream().filter(p -> p.getModel().equals("gpt-5")).findFirst().orElseThrow();

        assertThat(sonnet.getCacheWritePer1MNanos()).isEqualTo(3_750_000_000L);
        assertThat(sonnet.getContextTiers()).containsExactly(new ModelPriceContextTier(200_000L, 6_000_000_000L, 600_000_000L,
                7_500_000_000L, 22_500_000_000L));
        assertThat(gemini.getContextTiers()).containsExactly(new ModelPriceContextTier(200_000L, 2_500_000_000L, 625_000_000L,
                null, 15_000_000_000L));
        assertThat(gpt5.getServiceTiers()).extracting(ModelPriceServiceTier::getName, t -> t.getMultiplier().toPlainString())
                .containsExactly(tuple("batch", "0.500000"), tuple("flex", "0.500000"), tuple("priority", "2.000000"));
    }
}
