package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.api.config.KafkaSettings;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.avro.ModelPrice;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.pricing.PriceBook;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole loop in one JVM on the real broker, registry and PostgreSQL: PUT /api/v1/prices →
 * the real streams topology (in-process {@link StreamsApp}) prices events sent through
 * POST /api/v1/events → the real sink writes the totals → GET .../report shows the cost. A
 * price version PUT later changes the cost of events from its effective time on, not before.
 */
class PricedPipelineIT {

    private static final String PREFIX = "it-e2e-" + UUID.randomUUID().toString().substring(0, 8) + ".";

    private static ApiServer server;
    private static StreamsApp streams;
    private static SinkApp.RunningSink sink;

    @BeforeAll
    static void start() throws Exception {
        server = ApiServer.startWithKafka("billing_priced_pipeline", KafkaSettings.of(TestInfra.kafka().bootstrapServers(),
                TestInfra.registry().confluentUrl(), new Topics(PREFIX)));
        Map<String, String> env = PipelineEnv.of(PREFIX, "priced-pipeline", server.jdbcUrl, false);
        streams = StreamsApp.start(StreamsAppConfig.from(ConfigSource.of(env)));
        assertThat(streams.awaitRunning(Duration.ofSeconds(60))).isTrue();
        sink = SinkApp.start(SinkConfig.from(ConfigSource.of(env)));
    }

    @AfterAll
    static void stop() {
        if (sink != null) {
            sink.close();
        }
        if (streams != null) {
            streams.close();
        }
        server.close();
    }

    private static final String HEADER = "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from\n";

    private static String event(String id, String at) {
        return "{\"eventId\":\"" + id + "\",\"orgId\":\"e2e\",\"feature\":\"AI_COMPLETION\",\"provider\":\"openai\","
                + "\"model\":\"gpt-5\",\"inputTokens\":1000,\"outputTokens\":100,\"occurredAt\":\"" + at + "\"}";
    }

    private static List<String> hourlyCost() {
        Response r = server.get("/api/v1/usage/e2e/report?from=2026-11-22&to=2026-11-23&granularity=hour&groupBy=model",
                ADMIN);
        List<String> rows = new ArrayList<>();
        r.json().get("rows").forEach(row -> rows.add(row.get("period").asText() + " " + row.get("model").asText() + " "
                + row.get("events").asText() + " " + row.get("costUsd").asText()));
        return rows;
    }

    @Test
    void shouldPriceLaterEventsByAPricePutAfterEarlierOnes() {
        assertThat(server.put("/api/v1/prices", ADMIN, "text/csv", HEADER + "openai,gpt-5,1.25,0.125,10.00,2025-08-07\n")
                .status()).isEqualTo(200);
        awaitPriceVersions(1);
        assertThat(server.post("/api/v1/events", ADMIN, event("e2e-1", "2026-11-22T17:10:00Z")).status()).isEqualTo(202);
        // 1000 x 1.25 + 100 x 10 USD per 1M tokens = 0.00225 USD
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(hourlyCost()).containsExactly("2026-11-22T17:00:00Z gpt-5 1 0.00225"));

        assertThat(server.put("/api/v1/prices", ADMIN, "text/csv", HEADER + "openai,gpt-5,2.50,0.25,20,2026-11-22T18:00:00Z\n")
                .status()).isEqualTo(200);
        awaitPriceVersions(2);
        // a retry of the first event (same eventId) counts once; the new event is priced by the new version
        assertThat(server.post("/api/v1/events", ADMIN, "[" + event("e2e-1", "2026-11-22T17:10:00Z") + ","
                + event("e2e-2", "2026-11-22T18:10:00Z") + "]").json().get("accepted").asInt()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(hourlyCost()).containsExactly(
                "2026-11-22T17:00:00Z gpt-5 1 0.00225",
                "2026-11-22T18:00:00Z gpt-5 1 0.0045"));
    }

    @Test
    void shouldGiveAGuestSessionThreeExchangesFromEventsThenRefuseWithLifetimeCode() {
        server.applyCatalog(dev.metering.api.plan.ExampleCatalogs.text(dev.metering.api.plan.ExampleCatalogs.SEED_004));
        server.subscribe("guests", "{\"planId\":\"guest\"}");
        String exchange = "{\"eventId\":\"%s\",\"orgId\":\"guests\",\"userId\":\"%s\",\"feature\":\"AI_COMPLETION\","
                + "\"provider\":\"openai\",\"model\":\"gpt-5\",\"inputTokens\":50,\"outputTokens\":20,"
                + "\"occurredAt\":\"%s\"}";
        assertThat(server.post("/api/v1/events", ADMIN, "[" + String.format(exchange, "g-1", "session-a", "2026-11-21T10:00:00Z")
                + "," + String.format(exchange, "g-2", "session-a", "2026-11-22T17:00:00Z") + ","
                + String.format(exchange, "g-3", "session-b", "2026-11-22T17:30:00Z") + "]").status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(server.check("guests", "AI_COMPLETION",
                "userId=session-a").json().at("/limits/0/used").asInt()).isEqualTo(2));
        assertThat(server.check("guests", "AI_COMPLETION", "userId=session-a").json().get("allowed").asBoolean()).isTrue();

        assertThat(server.post("/api/v1/events", ADMIN, String.format(exchange, "g-4", "session-a",
                "2026-11-22T18:20:00Z")).status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Response fourth = server.check("guests", "AI_COMPLETION", "userId=session-a");
            assertThat(fourth.json().get("allowed").asBoolean()).isFalse();
            assertThat(fourth.text("/code")).isEqualTo("LIFETIME_LIMIT_EXCEEDED");
            assertThat(fourth.json().get("retryAfterSeconds").isNull()).isTrue();
        });
        assertThat(server.check("guests", "AI_COMPLETION", "userId=session-b").json().at("/limits/0/used").asInt())
                .isEqualTo(1);
        assertThat(server.check("guests", "AI_COMPLETION", null).status()).isEqualTo(400);
    }

    @Test
    void shouldRefuseThe51stMessageOfAFreeConversationFromEventsWithTheConversationCode() {
        // seed 001's catalog, keeping the plans other tests of this class subscribe orgs to
        server.applyCatalog(dev.metering.api.plan.ExampleCatalogs.text(dev.metering.api.plan.ExampleCatalogs.SEED_001).stripTrailing()
                + "\n  - id: guest\n    name: Guest\n    priceUsd: \"0\"\n  - id: payg\n    name: Pay per use\n    priceUsd: \"0\"\n");
        // seed 001's free plan: 50 messages per conversation; 10 users stay under their own hourly and daily caps
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < 50; i++) {
            batch.append(i == 0 ? "" : ",").append(String.format("{\"eventId\":\"conv-%d\",\"orgId\":\"convo\","
                    + "\"userId\":\"user-%d\",\"conversationId\":\"c-1\",\"feature\":\"CHAT_MESSAGE\","
                    + "\"occurredAt\":\"%s\"}", i, i % 10, Instant.parse("2026-11-22T17:00:00Z").plusSeconds(60L * i)));
        }
        batch.append(",{\"eventId\":\"conv-other\",\"orgId\":\"convo\",\"userId\":\"user-1\","
                + "\"conversationId\":\"c-2\",\"feature\":\"CHAT_MESSAGE\",\"occurredAt\":\"2026-11-22T17:59:00Z\"}]");
        assertThat(server.post("/api/v1/events", ADMIN, batch.toString()).json().get("accepted").asInt()).isEqualTo(51);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Response full = server.check("convo", "CHAT_MESSAGE", "userId=user-new&conversationId=c-1");
            assertThat(full.json().get("allowed").asBoolean()).isFalse();
            assertThat(full.text("/code")).isEqualTo("CONVERSATION_LIMIT_EXCEEDED");
            assertThat(full.json().get("retryAfterSeconds").isNull()).isTrue();
        });
        Response other = server.check("convo", "CHAT_MESSAGE", "userId=user-new&conversationId=c-2");
        assertThat(other.json().get("allowed").asBoolean()).isTrue();
        assertThat(other.json().get("limits")).filteredOn(l -> l.get("id").asText().equals("messages-per-conversation"))
                .singleElement().satisfies(l -> assertThat(l.get("used").asInt()).isEqualTo(1));
        Response missing = server.check("convo", "CHAT_MESSAGE", "userId=user-new");
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.text("/error/field")).isEqualTo("conversationId");
    }


    @Test
    void shouldDeliverAConversationsThresholdAlertsFromEventsOncePerConversation() throws Exception {
        server.applyCatalog(dev.metering.api.plan.ExampleCatalogs.text(dev.metering.api.plan.ExampleCatalogs.SEED_001).stripTrailing()
                + "\n  - id: guest\n    name: Guest\n    priceUsd: \"0\"\n  - id: payg\n    name: Pay per use\n    priceUsd: \"0\"\n");
        try (WebhookReceiver receiver = new WebhookReceiver(server.clock)) {
            Response hook = server.post("/api/v1/webhooks", ADMIN, "{\"url\":" + ApiServer.quote(receiver.url())
                    + ",\"orgId\":\"convo-alerts\"}");
            receiver.secret(hook.text("/secret"));
            // seed 001's free plan: 50 messages per conversation; 10 users, 4 or 5 messages each, stay under 80% of theirs
            String message = "{\"eventId\":\"ca-%s-%d\",\"orgId\":\"convo-alerts\",\"userId\":\"user-%d\","
                    + "\"conversationId\":\"%s\",\"feature\":\"CHAT_MESSAGE\",\"occurredAt\":\"%s\"}";
            StringBuilder batch = new StringBuilder("[");
            for (int i = 0; i < 40; i++) {
                batch.append(i == 0 ? "" : ",").append(String.format(message, "c1", i, i % 10, "c-1",
                        Instant.parse("2026-11-22T17:00:00Z").plusSeconds(60L * i)));
            }
            batch.append(",").append(String.format(message, "c2", 0, 0, "c-2", "2026-11-22T17:50:00Z")).append("]");
            assertThat(server.post("/api/v1/events", ADMIN, batch.toString()).json().get("accepted").asInt()).isEqualTo(41);
            await().atMost(Duration.ofSeconds(60)).until(() -> receiver.received().size() == 1);

            batch = new StringBuilder("[");
            for (int i = 40; i < 50; i++) {
                batch.append(i == 40 ? "" : ",").append(String.format(message, "c1", i, i % 10, "c-1",
                        Instant.parse("2026-11-22T17:00:00Z").plusSeconds(60L * i)));
            }
            assertThat(server.post("/api/v1/events", ADMIN, batch.append("]").toString()).json().get("accepted").asInt())
                    .isEqualTo(10);
            await().atMost(Duration.ofSeconds(60)).until(() -> receiver.received().size() == 2);
            assertThat(receiver.received()).allSatisfy(r -> assertThat(r.verified()).isTrue());
            List<String> data = new ArrayList<>();
            for (WebhookReceiver.Received r : receiver.received()) {
                com.fasterxml.jackson.databind.JsonNode d = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("data");
                data.add(d.toString());
            }
            assertThat(data).containsExactlyInAnyOrder(
                    "{\"orgId\":\"convo-alerts\",\"conversationId\":\"c-1\",\"limitId\":\"messages-per-conversation\","
                            + "\"feature\":\"CHAT_MESSAGE\",\"meter\":\"quantity\",\"window\":\"lifetime\",\"scope\":\"conversation\","
                            + "\"threshold\":0.8,\"used\":40,\"limit\":50,\"windowStart\":\"1970-01-01T00:00:00Z\",\"resetsAt\":null,"
                            + "\"planId\":\"free\"}",
                    "{\"orgId\":\"convo-alerts\",\"conversationId\":\"c-1\",\"limitId\":\"messages-per-conversation\","
                            + "\"feature\":\"CHAT_MESSAGE\",\"meter\":\"quantity\",\"window\":\"lifetime\",\"scope\":\"conversation\","
                            + "\"threshold\":1,\"used\":50,\"limit\":50,\"windowStart\":\"1970-01-01T00:00:00Z\",\"resetsAt\":null,"
                            + "\"planId\":\"free\"}");
            // the detector keeps running: no second delivery of either crossing
            server.clock.advance(Duration.ofSeconds(1));
            assertThat(((Number) server.db.fetchValue("SELECT count(*) FROM metering.alerts WHERE org_id = 'convo-alerts'"))
                    .intValue()).isEqualTo(2);
        }
    }


    @Test
    void shouldPriceCacheWritesContextTiersAndBatchEndToEndAndReportTheNewTokenCounts() {
        assertThat(server.put("/api/v1/prices", ADMIN, "text/csv", "provider,model,input_per_1m_usd,cached_input_per_1m_usd,"
                + "output_per_1m_usd,effective_from,cache_write_per_1m_usd,above_input_tokens,service_tiers\n"
                + "anthropic,claude-sonnet-4-5,3,0.3,15,2025-09-29,3.75,,batch=0.5\n"
                + "anthropic,claude-sonnet-4-5,6,0.6,22.5,2025-09-29,7.5,200000,\n").status()).isEqualTo(200);
        awaitPriceVersions("anthropic/claude-sonnet-4-5", 1);
        String claude = "{\"orgId\":\"e2e-v2\",\"feature\":\"AI_COMPLETION\",\"provider\":\"anthropic\","
                + "\"model\":\"claude-sonnet-4-5\",\"occurredAt\":\"2026-11-22T18:20:00Z\",";
        Response refused = server.post("/api/v1/events", ADMIN, claude + "\"eventId\":\"v2-bad\",\"outputTokens\":100,"
                + "\"reasoningTokens\":101}");
        assertThat(refused.json().get("accepted").asInt()).isZero();
        assertThat(refused.json().get("rejected").toString()).contains("\"code\":\"EXCEEDS_OUTPUT\"")
                .contains("\"field\":\"reasoningTokens\"");
        assertThat(server.post("/api/v1/events", ADMIN, "[" + claude + "\"eventId\":\"v2-long\",\"inputTokens\":150001,"
                + "\"cachedInputTokens\":40000,\"cacheWriteTokens\":10000,\"outputTokens\":1000,\"reasoningTokens\":300},"
                + claude + "\"eventId\":\"v2-batch\",\"inputTokens\":1000,\"cachedInputTokens\":500,\"cacheWriteTokens\":2000,"
                + "\"outputTokens\":100,\"reasoningTokens\":40,\"serviceTier\":\"batch\"}]").json().get("accepted").asInt())
                .isEqualTo(2);

        // 150,001 x 6 + 40,000 x 0.6 + 10,000 x 7.5 + 1,000 x 22.5 USD per 1M (above 200,000 prompt tokens) = 1.021506
        // + (1000 x 3 + 500 x 0.3 + 2000 x 3.75 + 100 x 15) x 0.5 USD per 1M (batch)                         = 0.006075
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Response r = server.get("/api/v1/usage/e2e-v2/report?from=2026-11-22&to=2026-11-23&granularity=hour", ADMIN);
            assertThat(r.json().get("rows").toString()).isEqualTo("[{\"period\":\"2026-11-22T18:00:00Z\",\"events\":2,"
                    + "\"quantity\":2,\"inputTokens\":151001,\"outputTokens\":1100,\"cachedInputTokens\":40500,"
                    + "\"cacheWriteTokens\":12000,\"reasoningTokens\":340,\"tokens\":152101,\"unpricedEvents\":0,"
                    + "\"costUsd\":\"1.027581\"}]");
        });
    }

    /** Waits until the streams app's global price store holds gpt-5 with {@code versions} versions. */
    private static void awaitPriceVersions(int versions) {
        awaitPriceVersions("openai/gpt-5", versions);
    }

    /** Waits until the streams app's global price store holds {@code key} with {@code versions} versions. */
    private static void awaitPriceVersions(String key, int versions) {
        Deserializer<ModelPrice> des = AvroSerdes.specific(ModelPrice.class,
                HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", TestInfra.registry().confluentUrl())),
                Map.of("specific.avro.reader", true), false).deserializer();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            ReadOnlyKeyValueStore<String, byte[]> store = streams.streams().store(StoreQueryParameters.fromNameAndType(
                    PriceBook.STORE, QueryableStoreTypes.keyValueStore()));
            byte[] raw = store.get(key);
            assertThat(raw).isNotNull();
            assertThat(des.deserialize(new Topics(PREFIX).prices(), raw).getHistory()).hasSize(versions - 1);
        });
    }
}
