package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.api.it.ApiServer.T0;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.api.config.KafkaSettings;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.avro.UsageEvent;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import java.time.Duration;
import java.util.ArrayList;
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

/** POST /api/v1/events over real HTTP into the real broker, read back with a plain consumer. */
class IngestIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Topics TOPICS = new Topics("it-ingest-" + UUID.randomUUID().toString().substring(0, 8) + ".");

    private static ApiServer server;
    private static String acmeIngestKey;
    private static String acmeReadKey;

    @BeforeAll
    static void start() {
        server = ApiServer.startWithKafka("billing_ingest", KafkaSettings.of(TestInfra.kafka().bootstrapServers(),
                TestInfra.registry().confluentUrl(), TOPICS));
        acmeIngestKey = server.createKey("acme", "ingest")[1];
        acmeReadKey = server.createKey("acme", "read")[1];
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ObjectNode event(String org, String eventId, int i) {
        ObjectNode e = JSON.createObjectNode();
        if (eventId != null) {
            e.put("eventId", eventId);
        }
        e.put("orgId", org).put("feature", "AI_COMPLETION").put("userId", "u" + (i % 7))
                .put("provider", "openai").put("model", "gpt-5").put("inputTokens", 100 + i).put("outputTokens", 10)
                .put("occurredAt", T0.minusSeconds(i).toEpochMilli());
        return e;
    }

    @Test
    void shouldRejectExactlyTheInvalidEventsOfABatchAndSendTheOthers() throws Exception {
        String org = "batch-org";
        ArrayNode batch = JSON.createArrayNode();
        for (int i = 0; i < 100; i++) {
            batch.add(event(org, "ev-" + i, i));
        }
        ((ObjectNode) batch.get(7)).put("feature", "chat message");
        ((ObjectNode) batch.get(42)).put("inputTokens", -5);
        ((ObjectNode) batch.get(99)).put("occurredAt", T0.plus(Duration.ofMinutes(10)).toString());

        Response r = server.post("/api/v1/events", ADMIN, batch.toString());

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.json().get("accepted").asInt()).isEqualTo(97);
        List<String> rejected = new ArrayList<>();
        r.json().get("rejected").forEach(x -> rejected.add(x.get("index").asInt() + " " + x.get("field").asText()
                + " " + x.get("code").asText()));
        assertThat(rejected).containsExactly("7 feature INVALID_FORMAT", "42 inputTokens NEGATIVE", "99 occurredAt IN_FUTURE");

        List<UsageEvent> onTopic = readEvents(org, 97);
        assertThat(onTopic).extracting(UsageEvent::getEventId).containsExactlyInAnyOrderElementsOf(
                java.util.stream.IntStream.range(0, 100).filter(i -> i != 7 && i != 42 && i != 99)
                        .mapToObj(i -> "ev-" + i).toList());
        UsageEvent first = onTopic.stream().filter(e -> e.getEventId().equals("ev-3")).findFirst().orElseThrow();
        assertThat(first.getInputTokens()).isEqualTo(103);
        assertThat(first.getOutputTokens()).isEqualTo(10);
        assertThat(first.getOccurredAt()).isEqualTo(T0.minusSeconds(3));
        assertThat(first.getUserId()).isEqualTo("u3");
        assertThat(first.getModel()).isEqualTo("gpt-5");
    }

    @Test
    void shouldKeepAGivenEventIdAndGenerateOneOnlyWhenAbsent() throws Exception {
        String org = "id-org";
        ObjectNode withId = event(org, "fixed-id-1", 1);
        ObjectNode withoutId = event(org, null, 2);
        withoutId.put("occurredAt", "2026-11-22T18:00:00Z");
        ArrayNode batch = JSON.createArrayNode().add(withId).add(withoutId).add(withId.deepCopy());

        Response r = server.post("/api/v1/events", ADMIN, batch.toString());

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.json().get("accepted").asInt()).isEqualTo(3);
        List<UsageEvent> events = readEvents(org, 3);
        assertThat(events).extracting(UsageEvent::getEventId).filteredOn("fixed-id-1"::equals).hasSize(2);
        String generated = events.stream().map(UsageEvent::getEventId).filter(id -> !id.equals("fixed-id-1"))
                .findFirst().orElseThrow();
        assertThat(UUID.fromString(generated)).isNotNull();
        assertThat(events.stream().filter(e -> e.getEventId().equals(generated)).findFirst().orElseThrow()
                .getOccurredAt()).isEqualTo(java.time.Instant.parse("2026-11-22T18:00:00Z"));
    }

    @Test
    void shouldAnswerEachAcceptedEventsIdAndItsCostEstimatedFromThePriceBook() throws Exception {
        Response put = server.put("/api/v1/prices", ADMIN, "text/csv", "effective_from,provider,model,input_per_1m_usd,"
                + "cached_input_per_1m_usd,output_per_1m_usd,unit_usd\n2025-01-01,openai,gpt-5,1.25,0.125,10,\n");
        assertThat(put.status()).isEqualTo(200);
        String org = "cost-org";
        ObjectNode unknownModel = event(org, "cost-3", 3).put("model", "gpt-unknown");
        ObjectNode given = event(org, "cost-4", 4).put("costNanos", 1_500_000);
        ObjectNode invalid = event(org, "cost-5", 5).put("outputTokens", -1);
        ArrayNode batch = JSON.createArrayNode().add(event(org, "cost-1", 1)).add(event(org, null, 2)).add(unknownModel)
                .add(given).add(invalid);

        Response r = server.post("/api/v1/events", ADMIN, batch.toString());

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.json().get("accepted").asInt()).isEqualTo(4);
        List<String> answered = new ArrayList<>();
        r.json().get("events").forEach(x -> answered.add(x.get("index").asInt() + " " + x.get("costUsd").asText()));
        // 101 input x 1.25 + 10 output x 10 per 1M tokens = 0.00022625 USD; 102 input: 0.0002275
        assertThat(answered).containsExactly("0 0.00022625", "1 0.0002275", "2 null", "3 0.0015");
        assertThat(r.json().at("/events/2/costUsd").isNull()).isTrue();
        assertThat(r.json().at("/events/0/eventId").asText()).isEqualTo("cost-1");
        String generated = r.json().at("/events/1/eventId").asText();
        assertThat(UUID.fromString(generated)).isNotNull();
        assertThat(readEvents(org, 4)).extracting(UsageEvent::getEventId)
                .containsExactlyInAnyOrder("cost-1", generated, "cost-3", "cost-4");
        assertThat(r.json().at("/rejected/0/index").asInt()).isEqualTo(4);
    }

    @Test
    void shouldAcceptASingleObjectFromAnOrgKeyAndFillInItsOrg() throws Exception {
        ObjectNode e = JSON.createObjectNode().put("eventId", "single-1").put("feature", "CHAT_MESSAGE");

        Response r = server.post("/api/v1/events", acmeIngestKey, e.toString());

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.body()).isEqualTo("{\"accepted\":1,\"rejected\":[],"
                + "\"events\":[{\"index\":0,\"eventId\":\"single-1\",\"costUsd\":\"0\"}]}");
        UsageEvent sent = readEvents("acme", 1).get(0);
        assertThat(sent.getEventId()).isEqualTo("single-1");
        assertThat(sent.getQuantity()).isEqualTo(1);
        assertThat(sent.getOccurredAt()).isEqualTo(T0);
    }

    @Test
    void shouldRejectPerIndexEventsAnOrgKeySendsForAnotherOrg() {
        ArrayNode batch = JSON.createArrayNode().add(event("acme", "own-1", 1)).add(event("globex", "other-1", 2));

        Response r = server.post("/api/v1/events", acmeIngestKey, batch.toString());

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.json().get("accepted").asInt()).isEqualTo(1);
        JsonNode rej = r.json().get("rejected").get(0);
        assertThat(rej.get("index").asInt()).isEqualTo(1);
        assertThat(rej.get("code").asText()).isEqualTo("FORBIDDEN");
        assertThat(rej.get("field").asText()).isEqualTo("orgId");
    }

    @Test
    void shouldAnswer400WhenNoEventCountsAnd403WhenTheyWereAnotherOrgs() {
        Response noOrg = server.post("/api/v1/events", ADMIN, "{\"feature\":\"CHAT_MESSAGE\"}");
        assertThat(noOrg.status()).isEqualTo(400);
        assertThat(noOrg.json().get("accepted").asInt()).isZero();
        assertThat(noOrg.json().get("rejected").get(0).get("index").asInt()).isZero();
        assertThat(noOrg.json().get("rejected").get(0).get("field").asText()).isEqualTo("orgId");

        ArrayNode foreign = JSON.createArrayNode().add(event("globex", "f-1", 1)).add(event("initech", "f-2", 2));
        Response forbidden = server.post("/api/v1/events", acmeIngestKey, foreign.toString());
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(forbidden.json().get("accepted").asInt()).isZero();
        List<String> rejected = new ArrayList<>();
        forbidden.json().get("rejected").forEach(x -> rejected.add(x.get("index").asInt() + " " + x.get("field").asText()
                + " " + x.get("code").asText()));
        assertThat(rejected).containsExactly("0 orgId FORBIDDEN", "1 orgId FORBIDDEN");
    }

    @Test
    void shouldRefuseAtItsIndexAnEventAlreadyBeyondGrace() throws Exception {
        String org = "late-org";
        // T0 = 18:30: the 17:00 hour of two days ago closed at 18:00 today + 0 (48 h grace after 18:00 two days ago)
        ArrayNode batch = JSON.createArrayNode()
                .add(event(org, "late-60d", 0).put("occurredAt", T0.minus(Duration.ofDays(60)).toString()))
                .add(event(org, "late-edge", 0).put("occurredAt", "2026-11-20T17:59:59Z"))
                .add(event(org, "in-grace", 0).put("occurredAt", "2026-11-20T18:00:00Z"));

        Response r = server.post("/api/v1/events", ADMIN, batch.toString());

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.json().get("accepted").asInt()).isEqualTo(1);
        List<String> rejected = new ArrayList<>();
        r.json().get("rejected").forEach(x -> rejected.add(x.get("index").asInt() + " " + x.get("field").asText()
                + " " + x.get("code").asText()));
        assertThat(rejected).containsExactly("0 occurredAt LATE", "1 occurredAt LATE");
        assertThat(r.json().get("rejected").get(1).get("message").asText()).isEqualTo("occurredAt 2026-11-20T17:59:59Z"
                + " is in the hour window starting 2026-11-20T17:00:00Z, closed at 2026-11-22T18:00:00Z (window end"
                + " + grace PT48H); it would not be counted");
        assertThat(readEvents(org, 1)).extracting(UsageEvent::getEventId).containsExactly("in-grace");

        Response allLate = server.post("/api/v1/events", ADMIN, event(org, "late-2", 0)
                .put("occurredAt", T0.minus(Duration.ofDays(60)).toString()).toString());
        assertThat(allLate.status()).isEqualTo(400);
        assertThat(allLate.json().get("rejected").get(0).get("code").asText()).isEqualTo("LATE");
    }

    @Test
    void shouldRejectWrongTypesAndUnknownFieldsPerIndex() {
        ArrayNode batch = JSON.createArrayNode()
                .add(event("shape-org", "s-1", 1).put("quantity", "three"))
                .add(event("shape-org", "s-2", 2).put("colour", "red"))
                .add(event("shape-org", "s-3", 3).put("occurredAt", "yesterday"));

        Response r = server.post("/api/v1/events", ADMIN, batch.toString());

        assertThat(r.status()).as("nothing accepted").isEqualTo(400);
        assertThat(r.json().get("accepted").asInt()).isZero();
        List<String> rejected = new ArrayList<>();
        r.json().get("rejected").forEach(x -> rejected.add(x.get("index").asInt() + " " + x.get("field").asText()
                + " " + x.get("code").asText()));
        assertThat(rejected).containsExactly("0 quantity INVALID_TYPE", "1 colour UNKNOWN_FIELD", "2 occurredAt INVALID_TYPE");
    }

    @Test
    void shouldRefuseMoreThanAThousandEventsWith413() {
        ArrayNode batch = JSON.createArrayNode();
        for (int i = 0; i < 1001; i++) {
            batch.add(JSON.createObjectNode().put("orgId", "o").put("feature", "F"));
        }
        Response r = server.post("/api/v1/events", ADMIN, batch.toString());
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.text("/error/code")).isEqualTo("PAYLOAD_TOO_LARGE");
    }

    @Test
    void shouldRefuseBodiesAboveOneMebibyteWith413() {
        String big = "[" + event("acme", "big", 1).put("source", "x".repeat(1_100_000)) + "]";
        Response r = server.post("/api/v1/events", ADMIN, big);
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.text("/error/code")).isEqualTo("PAYLOAD_TOO_LARGE");
    }

    @Test
    void shouldAnswer503WhenKafkaIsNotConfigured() {
        try (ApiServer noKafka = ApiServer.start("billing_ingest_no_kafka")) {
            Response r = noKafka.post("/api/v1/events", ADMIN, event("acme", "n-1", 1).toString());
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.text("/error/code")).isEqualTo("UNAVAILABLE");
            Response prices = noKafka.put("/api/v1/prices", ADMIN, "text/csv",
                    "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from\n"
                            + "openai,gpt-5,1.25,0.125,10,2025-08-07\n");
            assertThat(prices.status()).isEqualTo(503);
            assertThat(noKafka.get("/api/v1/prices", ADMIN).json().get("prices")).isEmpty();
        }
    }

    @Test
    void shouldRefuseKeysWithoutTheIngestScope() {
        Response r = server.post("/api/v1/events", acmeReadKey, event("acme", "x", 1).toString());
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.text("/error/message")).isEqualTo("this key lacks the 'ingest' scope");
        assertThat(server.post("/api/v1/events", null, event("acme", "x", 1).toString()).status()).isEqualTo(401);
    }

    @Test
    void shouldAnswer503WithinTheBoundWhenKafkaIsDown() throws Exception {
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        try (ApiServer down = ApiServer.startWithKafka("billing_ingest_down", KafkaSettings.of("127.0.0.1:" + deadPort,
                TestInfra.registry().confluentUrl(), TOPICS).withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(2)))) {
            long t0 = System.nanoTime();
            Response r = down.post("/api/v1/events", ADMIN, event("acme", "down-1", 1).toString());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.text("/error/code")).isEqualTo("UNAVAILABLE");
            assertThat(ms).isLessThan(5_000);
        }
    }

    /** Reads the org's records from the events topic until {@code expected} arrived (key = orgId). */
    private static List<UsageEvent> readEvents(String org, int expected) {
        Map<String, Object> props = Map.of("bootstrap.servers", TestInfra.kafka().bootstrapServers(),
                "group.id", "ingest-it-" + UUID.randomUUID(), "auto.offset.reset", "earliest",
                "enable.auto.commit", "false");
        Deserializer<UsageEvent> des = AvroSerdes.specific(UsageEvent.class,
                HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", TestInfra.registry().confluentUrl())),
                Map.of("specific.avro.reader", true), false).deserializer();
        List<UsageEvent> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(Set.of(TOPICS.events()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> rec : c.poll(Duration.ofMillis(200))) {
                    if (org.equals(rec.key())) {
                        UsageEvent e = des.deserialize(rec.topic(), rec.value());
                        assertThat(e.getOrgId()).isEqualTo(org);
                        out.add(e);
                    }
                }
            }
            // nothing more than expected: one more short poll
            for (ConsumerRecord<String, byte[]> rec : c.poll(Duration.ofMillis(300))) {
                if (org.equals(rec.key())) {
                    out.add(des.deserialize(rec.topic(), rec.value()));
                }
            }
        }
        assertThat(out).hasSize(expected);
        return out;
    }
}
