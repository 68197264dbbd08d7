package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.it.ApiServer.Response;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GET /api/v1/usage/{orgId}/events and .../events/{eventId} over real HTTP on the real PostgreSQL,
 * event-log and dead-letter rows as metering-sink writes them (the sink's side: EventPipelineIT).
 */
class EventsIT {

    private static ApiServer server;
    private static String acmeRead;
    private static String acmeCheck;

    @BeforeAll
    static void start() {
        server = ApiServer.startWithEventLog("billing_events");
        for (String day : List.of("2026-11-21", "2026-11-22")) {
            server.db.execute("CREATE TABLE metering.usage_events_p" + day.replace("-", "")
                    + " PARTITION OF metering.usage_events FOR VALUES FROM ('" + day + "T00:00:00Z') TO ('"
                    + Instant.parse(day + "T00:00:00Z").plusSeconds(86_400) + "')");
        }
        logged("e1", "acme", "2026-11-22T10:00:00Z", "u1", "c1", 1000, 100, "0.002250000", true);
        logged("e2", "acme", "2026-11-22T10:00:00Z", "u2", "c1", 10, 0, "0.000000001", true);
        logged("e3", "acme", "2026-11-22T11:00:00.250Z", "u1", "c2", 0, 0, "0", false);
        logged("e4", "acme", "2026-11-21T09:00:00Z", "u1", null, 200000, 5000, "1.500000000", true);
        server.db.execute("UPDATE metering.usage_events SET cache_write_tokens = 3000, reasoning_tokens = 1200, "
                + "service_tier = 'batch' WHERE event_id = 'e4'");
        logged("b1", "beta", "2026-11-22T10:30:00Z", "u1", "c1", 1, 1, "0.1", true);
        server.db.execute("INSERT INTO metering.dead_letters (reason, message, stage, topic, kafka_partition, kafka_offset, "
                + "received_at, org_id, event_id) VALUES ('INVALID', 'feature: \"chat\" is not a feature code', 'validate', "
                + "'metering.usage.events', 0, 7, CAST('2026-11-22T10:00:01Z' AS timestamptz), 'acme', 'x-bad')");
        acmeRead = server.createKey("acme", "read")[1];
        acmeCheck = server.createKey("acme", "check")[1];
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static void logged(String id, String org, String at, String user, String conversation, long in, long out,
                               String cost, boolean priced) {
        server.db.execute("INSERT INTO metering.usage_events (event_id, org_id, occurred_at, feature, user_id, "
                        + "conversation_id, provider, model, source, quantity, input_tokens, output_tokens, cached_input_tokens, "
                        + "cost_usd, priced, price_effective_from, recorded_at) VALUES (?, ?, CAST(? AS timestamptz), "
                        + "'AI_COMPLETION', ?, ?, 'openai', 'gpt-5', NULL, 1, ?, ?, 0, CAST(? AS numeric), ?, "
                        + "CAST(? AS timestamptz), CAST('2026-11-22T12:00:00Z' AS timestamptz))",
                id, org, Instant.parse(at).atOffset(ZoneOffset.UTC), user, conversation, in, out, cost, priced,
                priced ? Instant.parse("2025-08-07T00:00:00Z").atOffset(ZoneOffset.UTC) : null);
    }

    private static List<String> ids(Response r) {
        List<String> ids = new ArrayList<>();
        r.json().get("items").forEach(e -> ids.add(e.get("eventId").asText()));
        return ids;
    }

    @Test
    void shouldListTheOrgsCountedEventsNewestFirstWithTheirCost() {
        Response r = server.get("/api/v1/usage/acme/events", acmeRead);

        assertThat(r.status()).isEqualTo(200);
        assertThat(ids(r)).containsExactly("e3", "e2", "e1", "e4");
        assertThat(r.json().get("next").isNull()).isTrue();
        JsonNode e1 = r.json().get("items").get(2);
        assertThat(e1.get("occurredAt").asText()).isEqualTo("2026-11-22T10:00:00Z");
        assertThat(e1.get("costUsd").asText()).isEqualTo("0.00225");
        assertThat(e1.get("inputTokens").asLong()).isEqualTo(1000);
        assertThat(e1.get("outputTokens").asLong()).isEqualTo(100);
        assertThat(e1.get("userId").asText()).isEqualTo("u1");
        assertThat(e1.get("conversationId").asText()).isEqualTo("c1");
        assertThat(e1.get("model").asText()).isEqualTo("gpt-5");
        assertThat(e1.get("priced").asBoolean()).isTrue();
        assertThat(e1.get("priceEffectiveFrom").asText()).isEqualTo("2025-08-07T00:00:00Z");
        assertThat(e1.get("cacheWriteTokens").asLong()).isZero();
        assertThat(e1.get("reasoningTokens").asLong()).isZero();
        assertThat(e1.get("serviceTier").isNull()).isTrue();
        JsonNode e4 = r.json().get("items").get(3);
        assertThat(e4.get("cacheWriteTokens").asLong()).isEqualTo(3000);
        assertThat(e4.get("reasoningTokens").asLong()).isEqualTo(1200);
        assertThat(e4.get("serviceTier").asText()).isEqualTo("batch");
        assertThat(r.json().get("items").get(0).get("occurredAt").asText()).isEqualTo("2026-11-22T11:00:00.250Z");
        assertThat(r.json().get("items").get(0).get("costUsd").asText()).isEqualTo("0");
        assertThat(r.json().get("items").get(1).get("costUsd").asText()).isEqualTo("0.000000001");
        assertThat(r.json().get("items").get(3).get("costUsd").asText()).isEqualTo("1.5");
    }

    @Test
    void shouldPageWithACursorThatLaterInsertsDoNotShift() {
        Response first = server.get("/api/v1/usage/acme/events?limit=2", acmeRead);
        assertThat(ids(first)).containsExactly("e3", "e2");
        String next = first.json().get("next").asText();

        // a newer event and one between the pages arrive after the first page was read
        logged("e5", "acme", "2026-11-22T12:00:00Z", "u3", null, 1, 1, "0.1", true);
        try {
            Response second = server.get("/api/v1/usage/acme/events?limit=2&after=" + next, acmeRead);
            assertThat(ids(second)).containsExactly("e1", "e4");
            assertThat(second.json().get("next").isNull()).isTrue();
        } finally {
            server.db.execute("DELETE FROM metering.usage_events WHERE event_id = 'e5'");
        }
    }

    @Test
    void shouldListTheSameItemsAsCsvWithTheNextPageInALinkHeader() {
        Response first = server.get("/api/v1/usage/acme/events?userId=u1&limit=2", acmeRead, "text/csv");

        assertThat(first.status()).isEqualTo(200);
        assertThat(first.raw().headers().firstValue("Content-Type").orElseThrow()).startsWith("text/csv");
        String[] lines = first.body().split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).startsWith("eventId,occurredAt,feature,userId,conversationId,provider,model,");
        assertThat(lines[1]).isEqualTo("e3,2026-11-22T11:00:00.250Z,AI_COMPLETION,u1,c2,openai,gpt-5,,1,0,0,0,0,0,,0,"
                + "false,,2026-11-22T12:00:00Z");
        assertThat(lines[2]).isEqualTo("e1,2026-11-22T10:00:00Z,AI_COMPLETION,u1,c1,openai,gpt-5,,1,1000,100,0,0,0,,"
                + "0.00225,true,2025-08-07T00:00:00Z,2026-11-22T12:00:00Z");
        String link = first.raw().headers().firstValue("Link").orElseThrow();
        String cursor = server.get("/api/v1/usage/acme/events?userId=u1&limit=2", acmeRead).json().get("next").asText();
        assertThat(link).isEqualTo("</api/v1/usage/acme/events?userId=u1&limit=2&after=" + cursor + ">; rel=\"next\"");

        Response second = server.get(link.substring(1, link.indexOf('>')), acmeRead, "text/csv");
        assertThat(second.body().split("\n")).hasSize(2);
        assertThat(second.body().split("\n")[1]).startsWith("e4,2026-11-21T09:00:00Z,");
        assertThat(second.raw().headers().firstValue("Link")).isEmpty();
    }

    @Test
    void shouldFilterByUserConversationAndTime() {
        assertThat(ids(server.get("/api/v1/usage/acme/events?userId=u1", acmeRead))).containsExactly("e3", "e1", "e4");
        assertThat(ids(server.get("/api/v1/usage/acme/events?conversationId=c1", acmeRead))).containsExactly("e2", "e1");
        assertThat(ids(server.get("/api/v1/usage/acme/events?userId=u1&conversationId=c1", acmeRead)))
                .containsExactly("e1");
        assertThat(ids(server.get("/api/v1/usage/acme/events?from=2026-11-22T00:00:00Z&to=2026-11-22T11:00:00.250Z",
                acmeRead))).containsExactly("e2", "e1");
        assertThat(ids(server.get("/api/v1/usage/acme/events?userId=u1&limit=1&after="
                + server.get("/api/v1/usage/acme/events?userId=u1&limit=1", acmeRead).json().get("next").asText(),
                acmeRead))).containsExactly("e1");
        assertThat(ids(server.get("/api/v1/usage/acme/events?userId=nobody", acmeRead))).isEmpty();
    }

    @Test
    void shouldTellCountedDeadLetteredAndUnknownEventsApart() {
        Response counted = server.get("/api/v1/usage/acme/events/e1", acmeRead);
        assertThat(counted.status()).isEqualTo(200);
        assertThat(counted.text("/status")).isEqualTo("counted");
        assertThat(counted.text("/reason")).isNull();
        assertThat(counted.text("/costUsd")).isEqualTo("0.00225");
        assertThat(counted.text("/occurredAt")).isEqualTo("2026-11-22T10:00:00Z");

        Response dead = server.get("/api/v1/usage/acme/events/x-bad", acmeRead);
        assertThat(dead.text("/status")).isEqualTo("dead_lettered");
        assertThat(dead.text("/reason")).isEqualTo("INVALID");
        assertThat(dead.text("/message")).isEqualTo("feature: \"chat\" is not a feature code");
        assertThat(dead.text("/deadLetteredAt")).isEqualTo("2026-11-22T10:00:01Z");
        assertThat(dead.text("/costUsd")).isNull();

        assertThat(server.get("/api/v1/usage/acme/events/never-sent", acmeRead).text("/status")).isEqualTo("unknown");
        // another org's event is unknown here: an org key learns nothing about other orgs
        assertThat(server.get("/api/v1/usage/acme/events/b1", acmeRead).text("/status")).isEqualTo("unknown");
        assertThat(server.get("/api/v1/usage/beta/events/b1", ADMIN).text("/status")).isEqualTo("counted");
    }

    @Test
    void shouldKeepOrgKeysToTheirOwnOrgAndReadScope() {
        assertThat(server.get("/api/v1/usage/beta/events", acmeRead).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/usage/beta/events/b1", acmeRead).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/usage/acme/events", acmeCheck).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/usage/acme/events", null).status()).isEqualTo(401);
        assertThat(ids(server.get("/api/v1/usage/beta/events", ADMIN))).containsExactly("b1");
    }

    @Test
    void shouldRefuseBadInputNamingTheField() {
        assertField("/api/v1/usage/acme/events?limit=0", "limit");
        assertField("/api/v1/usage/acme/events?limit=1001", "limit");
        assertField("/api/v1/usage/acme/events?limit=ten", "limit");
        assertField("/api/v1/usage/acme/events?from=yesterday", "from");
        assertField("/api/v1/usage/acme/events?from=2026-11-22T00:00:00Z&to=2026-11-22T00:00:00Z", "to");
        assertField("/api/v1/usage/acme/events?after=not-a-cursor", "after");
        assertField("/api/v1/usage/acme/events?userId=" + "u".repeat(257), "userId");
        assertField("/api/v1/usage/acme/events/" + "e".repeat(257), "eventId");
    }

    private static void assertField(String path, String field) {
        Response r = server.get(path, acmeRead);
        assertThat(r.status()).as(path).isEqualTo(400);
        assertThat(r.text("/error/field")).as(path).isEqualTo(field);
    }

    @Test
    void shouldAnswerEventLogOffWhenTheLogIsOff() {
        try (ApiServer off = ApiServer.start("billing_events_off")) {
            for (String path : List.of("/api/v1/usage/acme/events", "/api/v1/usage/acme/events/e1")) {
                Response r = off.get(path, ADMIN);
                assertThat(r.status()).as(path).isEqualTo(404);
                assertThat(r.text("/error/code")).as(path).isEqualTo("EVENT_LOG_OFF");
            }
        }
    }
}
