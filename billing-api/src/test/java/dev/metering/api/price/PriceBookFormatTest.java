package dev.metering.api.price;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.avro.ModelPrice;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PriceBookFormatTest {

    @Test
    void shouldReadTheExamplePriceBookExactly() throws Exception {
        List<PriceVersion> book = PriceBookFormat.parseCsv(Files.readString(Path.of("..", "examples", "model-prices.csv")));
        PriceVersion gpt5 = book.stream().filter(v -> v.key().equals("openai/gpt-5")).findFirst().orElseThrow();
        assertThat(gpt5.effectiveFrom()).isEqualTo(Instant.parse("2025-08-07T00:00:00Z"));
        assertThat(gpt5.inputPer1mUsd()).isEqualByComparingTo("1.25");
        assertThat(gpt5.unitUsd()).isNull();
        assertThat(PriceService.nanos(gpt5.outputPer1mUsd())).isEqualTo(10_000_000_000L);
    }

    @Test
    void shouldPublishTheNewestVersionWithTheEarlierOnesAsHistory() {
        List<PriceVersion> versions = PriceBookFormat.parseCsv("effective_from,provider,model,input_per_1m_usd,"
                + "cached_input_per_1m_usd,output_per_1m_usd,unit_usd\n"
                + "2026-01-01,p,m,2,0.2,20,0.000000001\n"
                + "2025-01-01,p,m,1,0.1,10,\n");
        List<ModelPrice> prices = PriceService.toModelPrices(versions);
        assertThat(prices).hasSize(1);
        ModelPrice p = prices.get(0);
        assertThat(p.getEffectiveFrom()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(p.getInputPer1MNanos()).isEqualTo(2_000_000_000L);
        assertThat(p.getUnitNanos()).isEqualTo(1L);
        assertThat(p.getHistory()).hasSize(1);
        assertThat(p.getHistory().get(0).getOutputPer1MNanos()).isEqualTo(10_000_000_000L);
        assertThat(p.getHistory().get(0).getUnitNanos()).isNull();
    }

    @Test
    void shouldRefuseDuplicatesMissingColumnsAndEmptyBooks() {
        assertThatThrownBy(() -> PriceBookFormat.parseCsv("provider,model,input_per_1m_usd,cached_input_per_1m_usd,"
                + "output_per_1m_usd,effective_from\np,m,1,1,1,2025-01-01\np,m,2,2,2,2025-01-01T00:00:00Z\n"))
                .isInstanceOfSatisfying(PriceBookException.class, e -> assertThat(e.problems())
                        .containsExactly("p/m: effective_from 2025-01-01T00:00:00Z appears more than once"));
        assertThatThrownBy(() -> PriceBookFormat.parseCsv("provider,model\n"))
                .isInstanceOfSatisfying(PriceBookException.class, e -> assertThat(e.problems()).contains(
                        "line 1: missing column 'input_per_1m_usd'"));
        assertThatThrownBy(() -> PriceBookFormat.parseCsv("# nothing\n")).isInstanceOf(PriceBookException.class);
        assertThatThrownBy(() -> PriceBookFormat.parseJson(new ObjectMapper().readTree("{\"prices\":[],\"x\":1}")))
                .isInstanceOfSatisfying(PriceBookException.class, e -> assertThat(e.problems())
                        .containsExactly("x: unknown field (expected prices)"));
    }

    @Test
    void shouldWriteCanonicalMoneyAndDates() {
        assertThat(PriceBookFormat.money(new BigDecimal("10.000000000"))).isEqualTo("10");
        assertThat(PriceBookFormat.money(new BigDecimal("0E-9"))).isEqualTo("0");
        assertThat(PriceBookFormat.money(new BigDecimal("0.125000000"))).isEqualTo("0.125");
        assertThat(PriceBookFormat.effectiveFrom(Instant.parse("2025-08-07T00:00:00Z"))).isEqualTo("2025-08-07");
        assertThat(PriceBookFormat.effectiveFrom(Instant.parse("2025-08-07T12:00:00Z"))).isEqualTo("2025-08-07T12:00:00Z");
    }
}
