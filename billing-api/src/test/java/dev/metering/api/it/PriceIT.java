package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.config.KafkaSettings;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.avro.ModelPrice;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.events.pricing.PriceSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GET/PUT /api/v1/prices over real HTTP, PostgreSQL and Kafka: what is published is decoded with
 * the streams app's own {@link PriceSchedule} (what its PriceBook does with each record).
 */
class PriceIT {

    private static final Topics TOPICS = new Topics("it-prices-" + UUID.randomUUID().toString().substring(0, 8) + ".");
    private static final Path EXAMPLE = Path.of("..", "examples", "model-prices.csv");

    private static ApiServer server;
    private static String readKey;

    @BeforeAll
    static void start() {
        server = ApiServer.startWithKafka("billing_prices", KafkaSettings.of(TestInfra.kafka().bootstrapServers(),
                TestInfra.registry().confluentUrl(), TOPICS));
        readKey = server.createKey("acme", "read")[1];
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void shouldAuditAPriceChangeWithTheModelsVersionsBeforeAndAfter() {
        String header = "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from\n";
        assertThat(server.put("/api/v1/prices", ADMIN, "text/csv", header + "auditco,model-a,1,0.1,4,2026-10-01T00:00:00Z\n")
                .status()).isEqualTo(200);
        assertThat(server.put("/api/v1/prices", ADMIN, "text/csv", header + "auditco,model-a,2,0.2,8,2026-11-01T00:00:00Z\n")
                .status()).isEqualTo(200);

        Response audit = server.get("/api/v1/audit?entity=price&limit=2", ADMIN);

        assertThat(audit.status()).as(audit.body()).isEqualTo(200);
        var latest = audit.json().at("/items/0");
        assertThat(latest.get("action").asText()).isEqualTo("price.put");
        assertThat(latest.get("actor").asText()).isEqualTo("admin-token");
        assertThat(latest.get("entityId").asText()).isEqualTo("auditco/model-a");
        assertThat(latest.get("before").size()).isEqualTo(1);
        assertThat(latest.at("/before/0/inputPer1mUsd").asText()).isEqualTo("1");
        assertThat(latest.get("after").size()).isEqualTo(2);
        assertThat(latest.at("/after/1/inputPer1mUsd").asText()).isEqualTo("2");
        assertThat(latest.at("/after/1/effectiveFrom").asText()).isEqualTo("2026-11-01T00:00:00Z");
        assertThat(audit.json().at("/items/1/before").size()).isZero();
    }

    @Test
    void shouldStoreAndPublishEveryModelWithItsHistoryAsTheStreamsPriceBookReadsIt() throws IOException {
        String example = Files.readString(EXAMPLE);
        // a context tier's row is not a model of its own
        long models = example.lines().filter(l -> !l.isBlank() && !l.startsWith("#") && !l.startsWith("provider,"))
                .map(l -> l.split(",")[0] + "/" + l.split(",")[1]).distinct().count();

        Response first = server.put("/api/v1/prices", ADMIN, "text/csv", example);
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.json().get("models").asLong()).isEqualTo(models);

        Response raise = server.put("/api/v1/prices", ADMIN, "text/csv",
                "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from,unit_usd\n"
                        + "openai,gpt-5,2.000000001,0.2,12,2026-11-01T12:00:00Z,0.0001\n");
        assertThat(raise.status()).as(raise.body()).isEqualTo(200);
        assertThat(raise.body()).isEqualTo("{\"versions\":1,\"models\":1}");

        Map<String, ModelPrice> published = readPrices((int) models + 1);
        assertThat(published).hasSize((int) models);
        PriceSchedule gpt5 = PriceSchedule.of(published.get("openai/gpt-5"));
        var before = gpt5.inForceAt(Instant.parse("2026-11-01T11:59:59.999Z").toEpochMilli());
        assertThat(before.inputPer1MNanos()).isEqualTo(1_250_000_000L);
        assertThat(before.cachedInputPer1MNanos()).isEqualTo(125_000_000L);
        assertThat(before.outputPer1MNanos()).isEqualTo(10_000_000_000L);
        assertThat(before.unitNanos()).isNull();
        var after = gpt5.inForceAt(Instant.parse("2026-11-01T12:00:00Z").toEpochMilli());
        assertThat(after.inputPer1MNanos()).isEqualTo(2_000_000_001L);
        assertThat(after.cachedInputPer1MNanos()).isEqualTo(200_000_000L);
        assertThat(after.outputPer1MNanos()).isEqualTo(12_000_000_000L);
        assertThat(after.unitNanos()).isEqualTo(100_000L);
        assertThat(gpt5.inForceAt(Instant.parse("2025-08-06T23:59:59Z").toEpochMilli())).isNull();
        assertThat(PriceSchedule.of(published.get("anthropic/claude-sonnet-4-5"))
                .inForceAt(Instant.parse("2026-01-01T00:00:00Z").toEpochMilli()).outputPer1MNanos())
                .isEqualTo(15_000_000_000L);

        Response json = server.get("/api/v1/prices", readKey);
        assertThat(json.status()).isEqualTo(200);
        assertThat(json.json().get("prices")).hasSize((int) models + 1);
        assertThat(json.body()).contains("{\"provider\":\"openai\",\"model\":\"gpt-5\",\"effectiveFrom\":\"2025-08-07T00:00:00Z\","
                + "\"inputPer1mUsd\":\"1.25\",\"cachedInputPer1mUsd\":\"0.125\",\"outputPer1mUsd\":\"10\",\"unitUsd\":null,"
                + "\"cacheWritePer1mUsd\":null,\"contextTiers\":[],\"serviceTiers\":{\"batch\":{\"multiplier\":\"0.5\"},"
                + "\"flex\":{\"multiplier\":\"0.5\"},\"priority\":{\"multiplier\":\"2\"}}}");

        Response csv = server.get("/api/v1/prices", readKey, "text/csv");
        assertThat(csv.raw().headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
        assertThat(csv.body().lines().findFirst()).hasValue(
                "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from,unit_usd,"
                        + "cache_write_per_1m_usd,above_input_tokens,service_tiers");
        assertThat(csv.body()).contains("\nopenai,gpt-5,1.25,0.125,10,2025-08-07,,,,batch=0.5;flex=0.5;priority=2\n")
                .contains("\nopenai,gpt-5,2.000000001,0.2,12,2026-11-01T12:00:00Z,0.0001,,,\n")
                .contains("\nanthropic,claude-sonnet-4-5,3,0.3,15,2025-09-29,,3.75,,batch=0.5\n"
                        + "anthropic,claude-sonnet-4-5,6,0.6,22.5,2025-09-29,,7.5,200000,\n");

        Response again = server.put("/api/v1/prices", ADMIN, "text/csv", csv.body());
        assertThat(again.status()).isEqualTo(200);
        assertThat(server.get("/api/v1/prices", readKey, "text/csv").body()).isEqualTo(csv.body());
    }

    @Test
    void shouldRefuseABadPriceBookNamingEveryLineAndColumn() {
        Response r = server.put("/api/v1/prices", ADMIN, "text/csv",
                "# comment\n"
                        + "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from\n"
                        + "openai,gpt-x,-1,0,1,2025-01-01\n"
                        + "openai,gpt-y,0.0000000001,0,1,2025-01-01\n"
                        + "openai,gpt-z,1e3,0,1,yesterday\n"
                        + "open/ai,m,1,0,1,2025-01-01\n");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.text("/error/code")).isEqualTo("INVALID_PRICES");
        assertThat(r.text("/error/field")).isEqualTo("line 3, input_per_1m_usd");
        List<String> problems = new ArrayList<>();
        r.json().get("error").get("problems").forEach(p -> problems.add(p.asText()));
        assertThat(problems).containsExactly(
                "line 3, input_per_1m_usd: -1 must not be negative",
                "line 4, input_per_1m_usd: 0.0000000001 is finer than 1 nano-USD (at most 9 decimals)",
                "line 5, effective_from: 'yesterday' is not a UTC date such as 2025-08-07 or an ISO-8601 instant",
                "line 5, input_per_1m_usd: '1e3' is not a plain decimal number such as 1.25",
                "line 6, provider: 'open/ai' must not contain '/' (the price key is provider/model)");

        Response unknown = server.put("/api/v1/prices", ADMIN, "text/csv", "provider,model,price\nopenai,gpt-5,1\n");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.text("/error/message")).startsWith("line 1, column 3: unknown column 'price'");

        Response json = server.putJson("/api/v1/prices", ADMIN, "{\"prices\":[{\"provider\":\"openai\",\"model\":\"m\","
                + "\"effectiveFrom\":\"2025-01-01\",\"inputPer1mUsd\":\"1\",\"cachedInputPer1mUsd\":\"0\",\"outputPer1mUsd\":\"-2\"}]}");
        assertThat(json.status()).isEqualTo(400);
        assertThat(json.text("/error/field")).isEqualTo("prices[0].outputPer1mUsd");
    }

    @Test
    void shouldLetOnlyAdminsChangePrices() {
        Response r = server.put("/api/v1/prices", readKey, "text/csv", "x");
        assertThat(r.status()).isEqualTo(403);
        assertThat(server.get("/api/v1/prices", null).status()).isEqualTo(401);
        String ingestOnly = server.createKey("acme", "ingest")[1];
        assertThat(server.get("/api/v1/prices", ingestOnly).status()).isEqualTo(403);
    }

    /** The latest record per key after at least {@code records} records arrived. */
    static Map<String, ModelPrice> readPrices(int records) {
        return readPrices(TOPICS, records);
    }

    /** The latest record per key of {@code topics}' prices topic after {@code records} records arrived. */
    static Map<String, ModelPrice> readPrices(Topics topics, int records) {
        Map<String, Object> props = Map.of("bootstrap.servers", TestInfra.kafka().bootstrapServers(),
                "group.id", "price-it-" + UUID.randomUUID(), "auto.offset.reset", "earliest", "enable.auto.commit", "false");
        Deserializer<ModelPrice> des = AvroSerdes.specific(ModelPrice.class,
                HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", TestInfra.registry().confluentUrl())),
                Map.of("specific.avro.reader", true), false).deserializer();
        Map<String, ModelPrice> latest = new LinkedHashMap<>();
        int seen = 0;
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(Set.of(topics.prices()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen < records && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> rec : c.poll(Duration.ofMillis(200))) {
                    ModelPrice p = des.deserialize(rec.topic(), rec.value());
                    assertThat(rec.key()).isEqualTo(p.getProvider() + "/" + p.getModel());
                    latest.put(rec.key(), p);
                    seen++;
                }
            }
        }
        assertThat(seen).isEqualTo(records);
        return latest;
    }
}
