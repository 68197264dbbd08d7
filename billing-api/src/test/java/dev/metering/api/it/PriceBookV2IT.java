package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.config.KafkaSettings;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.avro.ModelPrice;
import dev.metering.avro.UsageEvent;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.pricing.Cost;
import dev.metering.events.pricing.PriceSchedule;
import dev.metering.events.pricing.PriceVersionNanos;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Price book v2 over real HTTP, PostgreSQL and Kafka: cache-write prices, context tiers and
 * service tiers go in as JSON or CSV, come back unchanged, and are published so that the streams
 * app's own {@link PriceSchedule} and {@link Cost} price an event exactly; inconsistent tiers are
 * a 400 naming the field.
 */
class PriceBookV2IT {

    private static final Topics TOPICS = new Topics("it-prices2-" + UUID.randomUUID().toString().substring(0, 8) + ".");
    private static final String SONNET = "{\"prices\":[{\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\","
            + "\"effectiveFrom\":\"2025-09-29\",\"inputPer1mUsd\":\"3\",\"cachedInputPer1mUsd\":\"0.3\",\"outputPer1mUsd\":\"15\","
            + "\"unitUsd\":null,\"cacheWritePer1mUsd\":\"3.75\",\"contextTiers\":[{\"aboveInputTokens\":200000,"
            + "\"inputPer1mUsd\":\"6\",\"cachedInputPer1mUsd\":\"0.6\",\"cacheWritePer1mUsd\":\"7.5\",\"outputPer1mUsd\":\"22.5\"}],"
            + "\"serviceTiers\":{\"batch\":{\"multiplier\":\"0.5\"}}}]}";

    private static ApiServer server;
    private static String readKey;

    @BeforeAll
    static void start() {
        server = ApiServer.startWithKafka("billing_prices_v2", KafkaSettings.of(TestInfra.kafka().bootstrapServers(),
                TestInfra.registry().confluentUrl(), TOPICS));
        readKey = server.createKey("acme", "read")[1];
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void shouldStoreReturnAndPublishTiersSoTheStreamsPriceBookPricesExactly() {
        Response put = server.putJson("/api/v1/prices", ADMIN, SONNET);
        assertThat(put.status()).as(put.body()).isEqualTo(200);

        Response json = server.get("/api/v1/prices", readKey);
        assertThat(json.body()).isEqualTo(SONNET.replace("\"2025-09-29\"", "\"2025-09-29T00:00:00Z\""));
        Response csv = server.get("/api/v1/prices", readKey, "text/csv");
        assertThat(csv.body()).isEqualTo("provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,"
                + "effective_from,cache_write_per_1m_usd,above_input_tokens,service_tiers\n"
                + "anthropic,claude-sonnet-4-5,3,0.3,15,2025-09-29,3.75,,batch=0.5\n"
                + "anthropic,claude-sonnet-4-5,6,0.6,22.5,2025-09-29,7.5,200000,\n");
        assertThat(server.put("/api/v1/prices", ADMIN, "text/csv", csv.body()).status()).isEqualTo(200);
        assertThat(server.get("/api/v1/prices", readKey).body()).isEqualTo(json.body());

        ModelPrice published = PriceIT.readPrices(TOPICS, 2).get("anthropic/claude-sonnet-4-5");
        PriceVersionNanos version = PriceSchedule.of(published).inForceAt(Instant.parse("2026-01-01T00:00:00Z").toEpochMilli());
        UsageEvent longBatch = UsageEvent.newBuilder().setEventId("e").setOrgId("acme").setOccurredAt(Instant.EPOCH)
                .setFeature("AI_COMPLETION").setInputTokens(190_001).setCachedInputTokens(5_000).setCacheWriteTokens(5_000)
                .setOutputTokens(1_000).setReasoningTokens(400).setServiceTier("batch").build();
        // (190,001 x 6e9 + 5,000 x 6e8 + 5,000 x 7.5e9 + 1,000 x 2.25e10) x 0.5
        assertThat(Cost.quote(longBatch, version)).isEqualTo(new Cost.Quote(new BigInteger("601503000000000"), 200_000L, "batch"));
    }

    @Test
    void shouldRefuseInconsistentTiersNamingTheField() {
        Response csv = server.put("/api/v1/prices", ADMIN, "text/csv",
                "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from,"
                        + "cache_write_per_1m_usd,above_input_tokens,service_tiers\n"
                        + "p,m,1,0.1,5,2025-01-01,,,batch=0.5;scale=0.8\n"
                        + "p,m,3,0.3,15,2025-01-01,,1000000,\n"
                        + "p,m,2,0.2,10,2025-01-01,,200000,\n"
                        + "p,n,2,0.2,-10,2025-01-01,,200000,\n");
        assertThat(csv.status()).isEqualTo(400);
        assertThat(csv.text("/error/code")).isEqualTo("INVALID_PRICES");
        assertThat(csv.text("/error/field")).isEqualTo("line 2, service_tiers");
        assertThat(problems(csv)).containsExactly(
                "line 2, service_tiers: unknown service tier 'scale' (expected batch, flex or priority; the standard tier "
                        + "is the version's own prices)",
                "line 5, output_per_1m_usd: -10 must not be negative",
                "line 4, above_input_tokens: 200000 must be above the previous tier's 1000000 (thresholds strictly "
                        + "ascending, each once)");

        Response json = server.putJson("/api/v1/prices", ADMIN, "[{\"provider\":\"p\",\"model\":\"m\","
                + "\"effectiveFrom\":\"2025-01-01\",\"inputPer1mUsd\":\"1\",\"cachedInputPer1mUsd\":\"0\",\"outputPer1mUsd\":\"1\","
                + "\"contextTiers\":[{\"aboveInputTokens\":200000,\"inputPer1mUsd\":\"2\",\"cachedInputPer1mUsd\":\"0\","
                + "\"outputPer1mUsd\":\"2\"},{\"aboveInputTokens\":200000,\"inputPer1mUsd\":\"3\",\"cachedInputPer1mUsd\":\"0\","
                + "\"outputPer1mUsd\":\"3\"}]}]");
        assertThat(json.status()).isEqualTo(400);
        assertThat(json.text("/error/field")).isEqualTo("prices[0].contextTiers[1].aboveInputTokens");
        assertThat(server.get("/api/v1/prices", readKey, "text/csv").body()).doesNotContain("p,m,");
    }

    private static List<String> problems(Response r) {
        List<String> out = new ArrayList<>();
        r.json().get("error").get("problems").forEach(p -> out.add(p.asText()));
        return out;
    }

}
