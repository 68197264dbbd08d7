package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.it.ApiServer.Response;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Dead-letter pages bounded by bytes as well as rows, large payloads cut with their size, whole per item. */
class DeadLetterPagesIT {

    private static final int BIG = 900_000;
    private static final int MEDIUM = 20_000;
    private static final int MEDIUM_ROWS = 120;
    private static ApiServer server;
    private static long bigId;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_dead_letter_pages");
        Instant t = Instant.parse("2026-11-22T10:00:00Z");
        for (int i = 0; i < MEDIUM_ROWS; i++) {
            insert(payload(MEDIUM, (byte) i), t.plusSeconds(i));
        }
        bigId = insert(payload(BIG, (byte) 'x'), t.plusSeconds(MEDIUM_ROWS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static byte[] payload(int size, byte fill) {
        byte[] b = new byte[size];
        Arrays.fill(b, fill);
        return b;
    }

    private static long insert(byte[] payload, Instant receivedAt) {
        return server.db.resultQuery("INSERT INTO metering.dead_letters (reason, message, stage, topic, kafka_partition, "
                        + "kafka_offset, record_key, payload, received_at) VALUES ('MALFORMED', 'not Avro', 'validate', "
                        + "'t', 0, ?, ?, ?, CAST(? AS timestamptz)) RETURNING id", receivedAt.getEpochSecond(),
                "acme".getBytes(StandardCharsets.UTF_8), payload, receivedAt.atOffset(ZoneOffset.UTC))
                .fetchOne(0, Long.class);
    }

    @Test
    void shouldCapAPageByBytesAndContinueWithTheCursor() {
        Set<Long> seen = new HashSet<>();
        String next = null;
        int pages = 0;
        do {
            Response page = server.get("/api/v1/dead-letters?limit=1000" + (next == null ? "" : "&after=" + next), ADMIN);
            assertThat(page.status()).as(page.body()).isEqualTo(200);
            assertThat(page.body().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(1_048_576 + 4096);
            for (JsonNode d : page.json().get("deadLetters")) {
                assertThat(seen.add(d.get("id").asLong())).as("no row twice").isTrue();
                assertThat(d.get("payloadTruncated").asBoolean()).isTrue();
                assertThat(Base64.getDecoder().decode(d.get("payloadBase64").asText())).hasSize(8192);
                assertThat(d.get("payloadBytes").asLong()).isEqualTo(d.get("id").asLong() == bigId ? BIG : MEDIUM);
                assertThat(d.get("key").asText()).isEqualTo("acme");
            }
            next = page.text("/next");
            pages++;
        } while (next != null && pages < 10);
        assertThat(seen).hasSize(MEDIUM_ROWS + 1);
        assertThat(pages).isGreaterThan(1);
    }

    @Test
    void shouldGiveTheWholePayloadPerItemToAdminsOnly() {
        Response one = server.get("/api/v1/dead-letters/" + bigId, ADMIN);
        assertThat(one.status()).isEqualTo(200);
        assertThat(one.json().get("payloadTruncated").asBoolean()).isFalse();
        assertThat(one.json().get("payloadBytes").asLong()).isEqualTo(BIG);
        assertThat(Base64.getDecoder().decode(one.text("/payloadBase64"))).isEqualTo(payload(BIG, (byte) 'x'));

        assertThat(server.get("/api/v1/dead-letters/" + (bigId + 1000), ADMIN).status()).isEqualTo(404);
        Response bad = server.get("/api/v1/dead-letters/abc", ADMIN);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.text("/error/field")).isEqualTo("id");
        String read = server.createKey("acme", "read")[1];
        assertThat(server.get("/api/v1/dead-letters/" + bigId, read).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/dead-letters/" + bigId, null).status()).isEqualTo(401);
    }
}
