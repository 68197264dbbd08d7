package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.config.KafkaSettings;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.avro.UsageEvent;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.UsageEvents;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GET /api/v1/dead-letters over real HTTP, rows as the sink writes them, payloads decoded through the real registry. */
class DeadLetterIT {

    private static final Topics TOPICS = new Topics("it-dlq-" + UUID.randomUUID().toString().substring(0, 8) + ".");
    private static final byte[] GARBAGE = {1, 2, 3};

    private static ApiServer server;
    private static byte[] invalidPayload;

    @BeforeAll
    static void start() {
        server = ApiServer.startWithKafka("billing_dead_letters", KafkaSettings.of(TestInfra.kafka().bootstrapServers(),
                TestInfra.registry().confluentUrl(), TOPICS));
        UsageEvent invalid = UsageEvents.builder(server.clock).eventId("bad-1").org("acme").feature("AI_COMPLETION")
                .tokens(10, 5).occurredAt(Instant.parse("2026-11-22T17:00:00Z")).build();
        invalid.setQuantity(-3);
        invalidPayload = AvroSerdes.specific(UsageEvent.class,
                HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", TestInfra.registry().confluentUrl())),
                Map.of("auto.register.schemas", true), false).serializer().serialize(TOPICS.events(), invalid);
        insert("INVALID", "quantity NEGATIVE: quantity -3 must not be negative", 0, 10, "acme".getBytes(StandardCharsets.UTF_8),
                invalidPayload, "2026-11-22T17:00:05Z");
        insert("MALFORMED", "fewer than 5 bytes", 1, 11, new byte[] {(byte) 0xff, 0x00}, GARBAGE, "2026-11-22T18:00:00Z");
        insert("LATE", "window closed", 2, 12, "acme".getBytes(StandardCharsets.UTF_8), invalidPayload,
                "2026-11-20T08:00:00Z");
    }

    private static void insert(String reason, String message, int partition, long offset, byte[] key, byte[] payload,
                               String receivedAt) {
        server.db.execute("INSERT INTO metering.dead_letters (reason, message, stage, topic, kafka_partition, kafka_offset, "
                        + "record_timestamp, record_key, payload, received_at) VALUES (?, ?, 'validate', ?, ?, ?, CAST(? AS timestamptz), ?, ?, CAST(? AS timestamptz))",
                reason, message, TOPICS.events(), partition, offset,
                Instant.parse(receivedAt).minusSeconds(5).atOffset(ZoneOffset.UTC), key, payload,
                Instant.parse(receivedAt).atOffset(ZoneOffset.UTC));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void shouldListDeadLettersNewestFirstWithDecodedPayloads() {
        Response r = server.get("/api/v1/dead-letters", ADMIN);

        assertThat(r.status()).isEqualTo(200);
        List<String> order = new ArrayList<>();
        r.json().get("deadLetters").forEach(d -> order.add(d.get("reason").asText() + "@" + d.get("receivedAt").asText()));
        assertThat(order).containsExactly("MALFORMED@2026-11-22T18:00:00Z", "INVALID@2026-11-22T17:00:05Z",
                "LATE@2026-11-20T08:00:00Z");

        var malformed = r.json().get("deadLetters").get(0);
        assertThat(malformed.get("key").isNull()).isTrue();
        assertThat(malformed.get("keyBase64").asText()).isEqualTo("/wA=");
        assertThat(malformed.get("payloadBase64").asText()).isEqualTo("AQID");
        assertThat(malformed.get("payload").isNull()).isTrue();
        assertThat(malformed.get("partition").asInt()).isEqualTo(1);
        assertThat(malformed.get("offset").asLong()).isEqualTo(11);
        assertThat(malformed.get("stage").asText()).isEqualTo("validate");
        assertThat(malformed.get("topic").asText()).isEqualTo(TOPICS.events());
        assertThat(malformed.get("recordTimestamp").asText()).isEqualTo("2026-11-22T17:59:55Z");

        var invalid = r.json().get("deadLetters").get(1);
        assertThat(invalid.get("message").asText()).isEqualTo("quantity NEGATIVE: quantity -3 must not be negative");
        assertThat(invalid.get("key").asText()).isEqualTo("acme");
        assertThat(invalid.get("payloadBase64").asText()).isEqualTo(Base64.getEncoder().encodeToString(invalidPayload));
        assertThat(invalid.get("payload").get("eventId").asText()).isEqualTo("bad-1");
        assertThat(invalid.get("payload").get("quantity").asLong()).isEqualTo(-3);
        assertThat(invalid.get("payload").get("inputTokens").asLong()).isEqualTo(10);
        assertThat(invalid.get("payload").get("occurredAt").asText()).isEqualTo("2026-11-22T17:00:00Z");
    }

    @Test
    void shouldFilterByReasonAndSinceAndLimit() {
        Response late = server.get("/api/v1/dead-letters?reason=LATE", ADMIN);
        assertThat(late.json().get("deadLetters")).hasSize(1);
        assertThat(late.json().get("deadLetters").get(0).get("offset").asLong()).isEqualTo(12);

        Response since = server.get("/api/v1/dead-letters?since=2026-11-22T17:00:05Z", ADMIN);
        assertThat(since.json().get("deadLetters")).hasSize(2);

        Response limited = server.get("/api/v1/dead-letters?limit=1", ADMIN);
        assertThat(limited.json().get("deadLetters")).hasSize(1);
        assertThat(limited.json().get("deadLetters").get(0).get("reason").asText()).isEqualTo("MALFORMED");

        assertThat(server.get("/api/v1/dead-letters?limit=0", ADMIN).text("/error/field")).isEqualTo("limit");
        assertThat(server.get("/api/v1/dead-letters?since=yesterday", ADMIN).text("/error/field")).isEqualTo("since");
        assertThat(server.get("/api/v1/dead-letters?reason=late'--", ADMIN).text("/error/field")).isEqualTo("reason");
    }

    @Test
    void shouldShowDeadLettersToAdminsOnly() {
        String orgKey = server.createKey("acme", "read", "ingest", "check")[1];
        assertThat(server.get("/api/v1/dead-letters", orgKey).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/dead-letters", null).status()).isEqualTo(401);
    }
}
