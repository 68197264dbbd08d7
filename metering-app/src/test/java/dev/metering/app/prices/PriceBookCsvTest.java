package dev.metering.app.prices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.ModelPrice;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PriceBookCsvTest {

    @Test
    void shouldConvertUsdPerMillionTokensToExactNanos() {
        List<PriceBookCsv.Row> rows = PriceBookCsv.parse("""
                # comment
                provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from
                openai,gpt-5,1.25,0.125,10.00,2025-08-07
                """, "test");
        ModelPrice price = PriceBookCsv.toModelPrices(rows).get(0);
        assertThat(price.getProvider()).isEqualTo("openai");
        assertThat(price.getModel()).isEqualTo("gpt-5");
        assertThat(price.getInputPer1MNanos()).isEqualTo(1_250_000_000L);
        assertThat(price.getCachedInputPer1MNanos()).isEqualTo(125_000_000L);
        assertThat(price.getOutputPer1MNanos()).isEqualTo(10_000_000_000L);
        assertThat(price.getUnitNanos()).isNull();
        assertThat(price.getEffectiveFrom()).isEqualTo(Instant.parse("2025-08-07T00:00:00Z"));
        assertThat(price.getHistory()).isEmpty();
    }

    @Test
    void shouldKeepEarlierVersionsOfAModelAsItsHistory() {
        List<ModelPrice> prices = PriceBookCsv.toModelPrices(PriceBookCsv.parse("""
                acme,m1,2.00,1.00,4.00,2025-06-01T00:00:00Z,0.001
                acme,m1,1.00,0.50,2.00,2025-01-01
                """, "test"));
        assertThat(prices).hasSize(1);
        ModelPrice p = prices.get(0);
        assertThat(p.getEffectiveFrom()).isEqualTo(Instant.parse("2025-06-01T00:00:00Z"));
        assertThat(p.getInputPer1MNanos()).isEqualTo(2_000_000_000L);
        assertThat(p.getUnitNanos()).isEqualTo(1_000_000L);
        assertThat(p.getHistory()).hasSize(1);
        assertThat(p.getHistory().get(0).getEffectiveFrom()).isEqualTo(Instant.parse("2025-01-01T00:00:00Z"));
        assertThat(p.getHistory().get(0).getOutputPer1MNanos()).isEqualTo(2_000_000_000L);
    }

    @Test
    void shouldNameEveryBadLine() {
        assertThatThrownBy(() -> PriceBookCsv.parse("""
                acme,m1,abc,0,0,2025-01-01
                acme,m2,0.0000000001,0,0,2025-01-01
                acme,m3,1,0,0
                acme,m4,-1,0,0,2025-01-01
                """, "book.csv"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("book.csv:1: input_per_1m_usd 'abc' is not a decimal number\n"
                        + "book.csv:2: input_per_1m_usd '0.0000000001' is finer than 1 nano-USD\n"
                        + "book.csv:3: expected 6 or 7 columns, got 5\n"
                        + "book.csv:4: input_per_1m_usd must not be negative");
    }

    @Test
    void shouldReadTheExamplePriceBook() throws IOException {
        List<PriceBookCsv.Row> rows = PriceBookCsv.read(Path.of("..", "examples", "model-prices.csv"));
        assertThat(rows).hasSize(23);
        assertThat(PriceBookCsv.toModelPrices(rows)).hasSize(23);
    }
}
