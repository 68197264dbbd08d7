package dev.metering.api.price;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceContextTier;
import dev.metering.avro.ModelPriceServiceTier;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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
    private static final String V2_HEADER = "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,"
            + "effective_from,cache_write_per_1m_usd,above_input_tokens,service_tiers\n";

    @Test
    void shouldReadContextTiersAsRowsOfTheirVersionAndServiceTiersAsOneCell() {
        List<PriceVersion> book = PriceBookFormat.parseCsv(V2_HEADER
                + "anthropic,claude-sonnet-4-5,6,0.6,22.5,2025-09-29,7.5,200000,\n"
                + "anthropic,claude-sonnet-4-5,3,0.3,15,2025-09-29,3.75,,batch=0.5;priority=1.8\n");

        assertThat(book).containsExactly(new PriceVersion("anthropic", "claude-sonnet-4-5",
                Instant.parse("2025-09-29T00:00:00Z"), new BigDecimal("3"), new BigDecimal("0.3"), new BigDecimal("15"), null,
                new BigDecimal("3.75"), List.of(new PriceVersion.ContextTier(200_000, new BigDecimal("6"),
                new BigDecimal("0.6"), new BigDecimal("7.5"), new BigDecimal("22.5"))),
                Map.of("batch", new BigDecimal("0.5"), "priority", new BigDecimal("1.8"))));
    }

    @Test
    void shouldWriteTheCsvItReads() {
        String csv = V2_HEADER
                + "anthropic,claude-sonnet-4-5,3,0.3,15,2025-09-29,3.75,,batch=0.5\n"
                + "anthropic,claude-sonnet-4-5,6,0.6,22.5,2025-09-29,7.5,200000,\n"
                + "openai,gpt-5,1.25,0.125,10,2025-08-07,,,batch=0.5;flex=0.5;priority=2\n";

        assertThat(PriceBookFormat.toCsv(PriceBookFormat.parseCsv(csv))).isEqualTo(csv);
    }

    @Test
    void shouldPublishCacheWritePricesTiersAndExactMultipliers() {
        ModelPrice p = PriceService.toModelPrices(PriceBookFormat.parseCsv(V2_HEADER
                + "anthropic,claude-sonnet-4-5,3,0.3,15,2025-09-29,3.75,,batch=0.5\n"
                + "anthropic,claude-sonnet-4-5,6,0.6,22.5,2025-09-29,7.5,200000,\n")).get(0);

        assertThat(p.getCacheWritePer1MNanos()).isEqualTo(3_750_000_000L);
        assertThat(p.getContextTiers()).containsExactly(new ModelPriceContextTier(200_000L, 6_000_000_000L, 600_000_000L,
                7_500_000_000L, 22_500_000_000L));
        assertThat(p.getServiceTiers()).containsExactly(new ModelPriceServiceTier("batch", new BigDecimal("0.500000")));
        ModelPrice plain = PriceService.toModelPrices(PriceBookFormat.parseCsv(V2_HEADER + "p,m,1,1,1,2025-01-01,,,\n")).get(0);
        assertThat(plain.getCacheWritePer1MNanos()).isNull();
        assertThat(plain.getContextTiers()).isNull();
        assertThat(plain.getServiceTiers()).isNull();
    }

    @Test
    void shouldRefuseInconsistentTiersNamingLineAndColumn() {
        assertThatThrownBy(() -> PriceBookFormat.parseCsv(V2_HEADER
                + "a,m,1,0.1,5,2025-01-01,1.25,,batch=0.5;scale=0.9;flex=0;priority=1.1234567\n"
                + "a,m,4,0.4,20,2025-01-01,5,1000000,\n"
                + "a,m,2,0.2,10,2025-01-01,2.5,200000,\n"
                + "a,m,3,0.3,15,2025-01-01,,200000,\n"
                + "a,m,-2,0.2,10,2025-01-01,2.5,0,batch=0.5\n"
                + "b,m,2,0.2,10,2025-01-01,,1000,\n"))
                .isInstanceOfSatisfying(PriceBookException.class, e -> assertThat(e.problems()).containsExactly(
                        "line 2, service_tiers: unknown service tier 'scale' (expected batch, flex or priority; the "
                                + "standard tier is the version's own prices)",
                        "line 2, service_tiers: multiplier 0 must be above 0",
                        "line 2, service_tiers: multiplier 1.1234567 has more than 6 decimals",
                        "line 6, input_per_1m_usd: -2 must not be negative",
                        "line 6, above_input_tokens: '0' is not a whole number of tokens from 1 to 10000000000",
                        "line 6, service_tiers: a context tier row has no service tiers (they are the version's, on its "
                                + "own row)",
                        // the version's own row was refused, its tiers are checked all the same
                        "line 4, above_input_tokens: 200000 must be above the previous tier's 1000000 (thresholds strictly "
                                + "ascending, each once)",
                        "line 5, above_input_tokens: 200000 must be above the previous tier's 200000 (thresholds strictly "
                                + "ascending, each once)",
                        "line 5, cache_write_per_1m_usd: required, as the version has a cache-write price",
                        "line 7, above_input_tokens: a context tier of b/m effective 2025-01-01T00:00:00Z needs that "
                                + "version's own row (with above_input_tokens empty)"));
        assertThatThrownBy(() -> PriceBookFormat.parseCsv(V2_HEADER
                + "a,m,1,0.1,5,2025-01-01,1.25,,\n"
                + "a,m,4,0.4,20,2025-01-01,5,1000000,\n"
                + "a,m,2,0.2,10,2025-01-01,2.5,200000,\n"
                + "a,m,3,0.3,15,2025-01-01,,200000,\n"))
                .isInstanceOfSatisfying(PriceBookException.class, e -> assertThat(e.problems()).containsExactly(
                        "line 4, above_input_tokens: 200000 must be above the previous tier's 1000000 (thresholds strictly "
                                + "ascending, each once)",
                        "line 5, above_input_tokens: 200000 must be above the previous tier's 200000 (thresholds strictly "
                                + "ascending, each once)",
                        "line 5, cache_write_per_1m_usd: required, as the version has a cache-write price"));
    }

    @Test
    void shouldReadAndRefuseTiersInJsonNamingTheField() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        List<PriceVersion> ok = PriceBookFormat.parseJson(mapper.readTree("{\"prices\":[{\"provider\":\"google\","
                + "\"model\":\"gemini-2.5-pro\",\"effectiveFrom\":\"2025-06-17\",\"inputPer1mUsd\":\"1.25\","
                + "\"cachedInputPer1mUsd\":\"0.31\",\"outputPer1mUsd\":\"10\",\"contextTiers\":[{\"aboveInputTokens\":200000,"
                + "\"inputPer1mUsd\":\"2.5\",\"cachedInputPer1mUsd\":\"0.625\",\"outputPer1mUsd\":\"15\"}],"
                + "\"serviceTiers\":{\"batch\":{\"multiplier\":\"0.5\"}}}]}"));
        assertThat(ok.get(0).contextTiers()).containsExactly(new PriceVersion.ContextTier(200_000, new BigDecimal("2.5"),
                new BigDecimal("0.625"), null, new BigDecimal("15")));
        assertThat(ok.get(0).serviceTiers()).isEqualTo(Map.of("batch", new BigDecimal("0.5")));
        assertThat(mapper.valueToTree(PriceBookFormat.json(ok.get(0))).toString()).contains(
                "\"contextTiers\":[{\"aboveInputTokens\":200000,\"inputPer1mUsd\":\"2.5\",\"cachedInputPer1mUsd\":\"0.625\","
                        + "\"cacheWritePer1mUsd\":null,\"outputPer1mUsd\":\"15\"}],\"serviceTiers\":{\"batch\":{\"multiplier\":\"0.5\"}}");

        assertThatThrownBy(() -> PriceBookFormat.parseJson(mapper.readTree("[{\"provider\":\"p\",\"model\":\"m\","
                + "\"effectiveFrom\":\"2025-01-01\",\"inputPer1mUsd\":\"1\",\"cachedInputPer1mUsd\":\"0\",\"outputPer1mUsd\":\"1\","
                + "\"contextTiers\":[{\"aboveInputTokens\":200000,\"inputPer1mUsd\":\"2\",\"cachedInputPer1mUsd\":\"0\","
                + "\"cacheWritePer1mUsd\":\"2.5\",\"outputPer1mUsd\":\"2\"},{\"aboveInputTokens\":100000,\"inputPer1mUsd\":\"2\","
                + "\"cachedInputPer1mUsd\":\"0\",\"outputPer1mUsd\":\"-2\",\"x\":1}],"
                + "\"serviceTiers\":{\"standard\":{\"multiplier\":\"1\"},\"flex\":{\"multiplier\":\"101\"}}}]")))
                .isInstanceOfSatisfying(PriceBookException.class, e -> assertThat(e.problems()).containsExactly(
                        "prices[0].contextTiers[1].x: unknown field",
                        "prices[0].contextTiers[1].outputPer1mUsd: -2 must not be negative",
                        "prices[0].serviceTiers.standard: unknown service tier 'standard' (expected batch, flex or "
                                + "priority; the standard tier is the version's own prices)",
                        "prices[0].serviceTiers.flex.multiplier: multiplier 101 must be at most 100"));
        assertThatThrownBy(() -> PriceBookFormat.parseJson(mapper.readTree("[{\"provider\":\"p\",\"model\":\"m\","
                + "\"effectiveFrom\":\"2025-01-01\",\"inputPer1mUsd\":\"1\",\"cachedInputPer1mUsd\":\"0\",\"outputPer1mUsd\":\"1\","
                + "\"contextTiers\":[{\"aboveInputTokens\":200000,\"inputPer1mUsd\":\"2\",\"cachedInputPer1mUsd\":\"0\","
                + "\"cacheWritePer1mUsd\":\"2.5\",\"outputPer1mUsd\":\"2\"},{\"aboveInputTokens\":100000,\"inputPer1mUsd\":\"2\","
                + "\"cachedInputPer1mUsd\":\"0\",\"outputPer1mUsd\":\"2\"}]}]")))
                .isInstanceOfSatisfying(PriceBookException.class, e -> assertThat(e.problems()).containsExactly(
                        "prices[0].contextTiers[0].cacheWritePer1mUsd: the version has no cache-write price, so its tiers "
                                + "have none either",
                        "prices[0].contextTiers[1].aboveInputTokens: 100000 must be above the previous tier's 200000 "
                                + "(thresholds strictly ascending, each once)"));
    }

    @Test
    void shouldGiveBackTheSamePriceBookFromItsCsvExportWhateverTheNames() {
        List<PriceVersion> book = List.of(
                version("=1+2", "gpt,\nforged,row,0,0,0,2025-01-01", "1.25"),
                version("@evil", "-2+3", "2"),
                version("+cmd", "say \"hi\"", "0.5"),
                version("'=guarded", "two\r\nlines", "3"),
                version("#hash", "plain", "4"),
                version("openai", "gpt-5", "1.25"));

        String csv = PriceBookFormat.toCsv(book);

        assertThat(csv.lines().filter(l -> l.startsWith("=") || l.startsWith("@") || l.startsWith("+"))).isEmpty();
        assertThat(csv).contains("\"gpt,\nforged,row,0,0,0,2025-01-01\"").contains("'=1+2,").contains("'-2+3");
        assertThat(PriceBookFormat.parseCsv(csv)).containsExactlyElementsOf(book);
    }

    private static PriceVersion version(String provider, String model, String input) {
        return new PriceVersion(provider, model, Instant.parse("2026-01-01T00:00:00Z"), new BigDecimal(input),
                new BigDecimal("0.1"), new BigDecimal("10"), null, null, List.of(), Map.of());
    }
}
