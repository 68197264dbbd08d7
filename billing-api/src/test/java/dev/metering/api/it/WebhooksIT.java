package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Webhook delivery from the outbox to real local receivers: retries with backoff on an injected
 * clock (no sleeping), giving up after 24 h, manual retry, isolation from a receiver that never
 * answers, the endpoints' CRUD, and bad input on every endpoint.
 */
class WebhooksIT {

    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - id: daily-messages
                    meter: quantity
                    window: day
                    max: 100
                    alertAt: [0.8]
            """;

    private static String register(ApiServer s, WebhookReceiver receiver) {
        ApiServer.Response r = s.post("/api/v1/webhooks", ApiServer.ADMIN, "{\"url\":" + ApiServer.quote(receiver.url()) + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        receiver.secret(r.text("/secret"));
        return r.text("/id");
    }

    private static void crossEightyPercent(ApiServer s, String org) {
        s.clock.advance(Duration.ofSeconds(1));
        s.sink.messages(org, "", s.clock.instant(), 85);
        s.api.alerting().detector().runOnce();
    }

    private static JsonNode onlyDelivery(ApiServer s, String hook) {
        JsonNode items = s.get("/api/v1/webhooks/" + hook + "/deliveries", ApiServer.ADMIN).json().get("items");
        assertThat(items).hasSize(1);
        return items.get(0);
    }

    private static JsonNode awaitAttempts(ApiServer s, String hook, int attempts) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
            JsonNode d = onlyDelivery(s, hook);
            return d.get("attempts").size() == attempts && (d.get("status").asText().equals("pending")
                    ? d.get("nextAttemptAt").asText().compareTo(s.clock.instant().toString()) > 0 : true);
        });
        return onlyDelivery(s, hook);
    }

    @Test
    void shouldRetryWithBackoffAfterServerErrorsAndDeliverOnceWithTheSameWebhookId() {
        try (ApiServer s = ApiServer.start("webhooks_retry"); WebhookReceiver receiver = new WebhookReceiver(s.clock)) {
            s.applyCatalog(CATALOG);
            String hook = register(s, receiver);
            receiver.answer(500, 500);
            crossEightyPercent(s, "acme");

            Instant first = s.clock.instant();
            JsonNode d = awaitAttempts(s, hook, 1);
            assertThat(d.get("status").asText()).isEqualTo("pending");
            assertThat(d.get("lastStatusCode").asInt()).isEqualTo(500);
            assertThat(Instant.parse(d.get("nextAttemptAt").asText())).isBetween(first.plusSeconds(4), first.plusSeconds(6));

            s.clock.advance(Duration.ofSeconds(6));
            Instant second = s.clock.instant();
            d = awaitAttempts(s, hook, 2);
            assertThat(Instant.parse(d.get("nextAttemptAt").asText())).isBetween(second.plusSeconds(16), second.plusSeconds(24));
            assertThat(receiver.received()).hasSize(2);

            s.clock.advance(Duration.ofSeconds(24));
            d = awaitAttempts(s, hook, 3);
            assertThat(d.get("status").asText()).isEqualTo("delivered");
            assertThat(d.get("attempts")).extracting(a -> a.get("statusCode").asInt()).containsExactly(500, 500, 200);
            assertThat(d.get("attempts").get(0).get("error").asText()).isEqualTo("HTTP 500: ok");

            List<WebhookReceiver.Received> got = receiver.received();
            assertThat(got).hasSize(3).allSatisfy(r -> assertThat(r.verified()).isTrue());
            assertThat(got).extracting(WebhookReceiver.Received::id).containsOnly(d.get("webhookId").asText());
            assertThat(got).extracting(WebhookReceiver.Received::body).containsOnly(got.get(0).body());
            assertThat(got).extracting(WebhookReceiver.Received::timestamp)
                    .containsExactly(first.getEpochSecond(), second.getEpochSecond(), second.plusSeconds(24).getEpochSecond());
        }
    }

    @Test
    void shouldGiveUpAfterTwentyFourHoursAndDeliverOnAManualRetry() {
        try (ApiServer s = ApiServer.start("webhooks_give_up"); WebhookReceiver receiver = new WebhookReceiver(s.clock)) {
            s.applyCatalog(CATALOG);
            String hook = register(s, receiver);
            receiver.always(503);
            crossEightyPercent(s, "acme");
            Instant recorded = s.clock.instant();

            JsonNode d = awaitAttempts(s, hook, 1);
            int attempts = 1;
            while (d.get("status").asText().equals("pending")) {
                assertThat(attempts).isLessThan(20);
                s.clock.set(Instant.parse(d.get("nextAttemptAt").asText()));
                d = awaitAttempts(s, hook, ++attempts);
            }
            assertThat(d.get("status").asText()).isEqualTo("failed");
            assertThat(Instant.parse(d.get("finishedAt").asText())).isEqualTo(recorded.plus(Duration.ofHours(24)));
            assertThat(d.get("attempts")).allSatisfy(a -> assertThat(a.get("statusCode").asInt()).isEqualTo(503));
            int failedAttempts = attempts;

            receiver.always(0);
            receiver.reset();
            ApiServer.Response r = s.post("/api/v1/webhooks/" + hook + "/deliveries/" + d.get("id").asLong() + "/retry",
                    ApiServer.ADMIN, "");
            assertThat(r.status()).isEqualTo(202);
            assertThat(r.text("/status")).isEqualTo("pending");
            d = awaitAttempts(s, hook, failedAttempts + 1);
            assertThat(d.get("status").asText()).isEqualTo("delivered");
            assertThat(receiver.received()).extracting(WebhookReceiver.Received::id).containsOnly(d.get("webhookId").asText());
            assertThat(s.get("/metrics", null).body()).contains("metering_webhook_deliveries_total{outcome=\"failed\"} 1.0");
        }
    }

    @Test
    void shouldSendAgainWithTheSameWebhookIdAfterTheSenderDiedMidAttempt() {
        String url = ApiServer.freshDatabase("webhooks_crash");
        ApiServer a = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
        try (WebhookReceiver receiver = new WebhookReceiver(a.clock)) {
            a.applyCatalog(CATALOG);
            String hook = register(a, receiver);
            receiver.hang();
            crossEightyPercent(a, "acme");
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.received().size() == 1);
            a.close();
            receiver.release();

            try (ApiServer b = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
                b.clock.set(a.clock.instant());
                b.api.alerting().detector().runOnce();
                a.clock.advance(Duration.ofSeconds(61));
                b.clock.set(a.clock.instant());
                await().atMost(Duration.ofSeconds(10)).until(() -> onlyDelivery(b, hook).get("status").asText().equals("delivered"));
                JsonNode d = onlyDelivery(b, hook);
                assertThat(d.get("attemptCount").asInt()).isEqualTo(2);
                assertThat(d.get("attempts")).extracting(x -> x.get("attempt").asInt() + ":" + x.get("statusCode").asInt())
                        .containsExactly("2:200");
                assertThat(((Number) b.db.fetchValue("SELECT count(*) FROM metering.alerts")).intValue()).isEqualTo(1);
                assertThat(receiver.received()).hasSize(2).allSatisfy(r -> assertThat(r.verified()).isTrue())
                        .extracting(WebhookReceiver.Received::id).containsOnly(d.get("webhookId").asText());
            }
        } finally {
            a.close();
        }
    }

    @Test
    void shouldDeliverToOtherEndpointsWhileOneNeverAnswers() {
        try (ApiServer s = ApiServer.start("webhooks_isolation"); WebhookReceiver dead = new WebhookReceiver(s.clock);
             WebhookReceiver alive = new WebhookReceiver(s.clock)) {
            s.applyCatalog(CATALOG);
            String deadHook = register(s, dead);
            String aliveHook = register(s, alive);
            dead.hang();
            for (int i = 0; i < 20; i++) {
                crossEightyPercent(s, "org-" + i);
            }
            // generous bounds: they only matter on a loaded machine, and the log says where it stopped
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(alive.received())
                    .as(() -> "alive deliveries: " + s.get("/api/v1/webhooks/" + aliveHook + "/deliveries", ApiServer.ADMIN).body())
                    .hasSize(20));
            await().atMost(Duration.ofSeconds(30)).until(() -> s.get("/api/v1/webhooks/" + aliveHook
                    + "/deliveries?status=delivered", ApiServer.ADMIN).json().get("items").size() == 20);
            // an endpoint with 8 requests in flight gets no more until one ends
            await().atMost(Duration.ofSeconds(30)).until(() -> dead.received().size() >= 8);
            assertThat(dead.received().size()).isLessThanOrEqualTo(15);
            assertThat(s.get("/api/v1/webhooks/" + deadHook + "/deliveries?status=pending", ApiServer.ADMIN)
                    .json().get("items")).hasSize(20);
        }
    }

    @Test
    void shouldListShowAndDeleteEndpointsWithoutEverShowingTheSecretAgain() {
        try (ApiServer s = ApiServer.start("webhooks_crud")) {
            String secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
            ApiServer.Response created = s.post("/api/v1/webhooks", ApiServer.ADMIN,
                    "{\"url\":\"https://example.com/hooks\",\"events\":[\"balance.low\"],\"orgId\":\"acme\",\"secret\":\"" + secret + "\"}");
            assertThat(created.status()).isEqualTo(201);
            assertThat(created.text("/secret")).isEqualTo(secret);
            String id = created.text("/id");
            ApiServer.Response one = s.get("/api/v1/webhooks/" + id, ApiServer.ADMIN);
            assertThat(one.status()).isEqualTo(200);
            assertThat(one.text("/url")).isEqualTo("https://example.com/hooks");
            assertThat(one.text("/orgId")).isEqualTo("acme");
            assertThat(one.json().get("events").toString()).isEqualTo("[\"balance.low\"]");
            assertThat(one.body()).doesNotContain(secret.substring(6)).doesNotContain("secret");
            ApiServer.Response list = s.get("/api/v1/webhooks", ApiServer.ADMIN);
            assertThat(list.json().get("items")).hasSize(1);
            assertThat(list.body()).doesNotContain("secret");
            assertThat(s.delete("/api/v1/webhooks/" + id, ApiServer.ADMIN).status()).isEqualTo(204);
            assertThat(s.get("/api/v1/webhooks/" + id, ApiServer.ADMIN).status()).isEqualTo(404);
            assertThat(s.delete("/api/v1/webhooks/" + id, ApiServer.ADMIN).status()).isEqualTo(404);
        }
    }

    @Test
    void shouldRefuseBadInputOnEveryEndpointNamingTheField() {
        try (ApiServer s = ApiServer.start("webhooks_bad_input")) {
            String id = s.post("/api/v1/webhooks", ApiServer.ADMIN, "{\"url\":\"http://127.0.0.1:9/x\"}").text("/id");
            String[][] posts = {
                    {"{}", "url"},
                    {"{\"url\":\"ftp://example.com/x\"}", "url"},
                    {"{\"url\":\"file:///etc/passwd\"}", "url"},
                    {"{\"url\":\"javascript:alert(1)\"}", "url"},
                    {"{\"url\":\"/relative\"}", "url"},
                    {"{\"url\":\"http://\"}", "url"},
                    {"{\"url\":\"https://example.com/" + "x".repeat(2100) + "\"}", "url"},
                    {"{\"url\":42}", "url"},
                    {"{\"url\":\"https://example.com\",\"events\":[\"limit.threshold_reached\",\"limit.reached\"]}", "events[1]"},
                    {"{\"url\":\"https://example.com\",\"events\":\"balance.low\"}", "events"},
                    {"{\"url\":\"https://example.com\",\"secret\":\"whsec_c2hvcnQ=\"}", "secret"},
                    {"{\"url\":\"https://example.com\",\"secret\":\"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}", "secret"},
                    {"{\"url\":\"https://example.com\",\"secret\":\"whsec_%%%\"}", "secret"},
                    {"{\"url\":\"https://example.com\",\"orgId\":\"" + "o".repeat(300) + "\"}", "orgId"},
                    {"{\"url\":\"https://example.com\",\"colour\":\"red\"}", "colour"},
                    {"[1,2]", "body"},
                    {"{not json", "body"},
            };
            for (String[] p : posts) {
                ApiServer.Response r = s.post("/api/v1/webhooks", ApiServer.ADMIN, p[0]);
                assertThat(r.status()).as(p[0]).isEqualTo(400);
                assertThat(r.text("/error/field")).as(p[0]).isEqualTo(p[1]);
            }
            String[][] gets = {
                    {"/api/v1/webhooks/" + id + "/deliveries?status=lost", "status"},
                    {"/api/v1/webhooks/" + id + "/deliveries?limit=0", "limit"},
                    {"/api/v1/webhooks/" + id + "/deliveries?limit=abc", "limit"},
                    {"/api/v1/webhooks/" + id + "/deliveries?limit=201", "limit"},
                    {"/api/v1/webhooks/bad%21id", "id"},
                    {"/api/v1/webhooks/bad%21id/deliveries", "id"},
            };
            for (String[] g : gets) {
                ApiServer.Response r = s.get(g[0], ApiServer.ADMIN);
                assertThat(r.status()).as(g[0]).isEqualTo(400);
                assertThat(r.text("/error/field")).as(g[0]).isEqualTo(g[1]);
            }
            ApiServer.Response badDelete = s.delete("/api/v1/webhooks/bad%21id", ApiServer.ADMIN);
            assertThat(badDelete.status()).isEqualTo(400);
            assertThat(badDelete.text("/error/field")).isEqualTo("id");
            ApiServer.Response badRetry = s.post("/api/v1/webhooks/" + id + "/deliveries/abc/retry", ApiServer.ADMIN, "");
            assertThat(badRetry.status()).isEqualTo(400);
            assertThat(badRetry.text("/error/field")).isEqualTo("deliveryId");
            assertThat(s.post("/api/v1/webhooks/" + id + "/deliveries/99/retry", ApiServer.ADMIN, "").status()).isEqualTo(404);
            assertThat(s.get("/api/v1/webhooks/wh_unknown", ApiServer.ADMIN).status()).isEqualTo(404);

            String[] orgKey = s.createKey("acme", "read", "check", "ingest");
            assertThat(s.get("/api/v1/webhooks", orgKey[1]).status()).isEqualTo(403);
            assertThat(s.post("/api/v1/webhooks", orgKey[1], "{\"url\":\"https://example.com\"}").status()).isEqualTo(403);
            assertThat(s.get("/api/v1/webhooks/" + id + "/deliveries", null).status()).isEqualTo(401);
            assertThat(s.delete("/api/v1/webhooks/" + id, orgKey[1]).status()).isEqualTo(403);
        }
    }
}
