package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.price.PriceBookFormat;
import dev.metering.api.price.PriceService;
import dev.metering.api.price.PriceVersion;
import dev.metering.avro.ModelPrice;
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
}
