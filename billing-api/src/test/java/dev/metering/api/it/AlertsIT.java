package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Alert detection on the real PostgreSQL with the production API (its background detector and
 * sender run too), delivered to a real local receiver that verifies every signature.
 */
class AlertsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - id: daily-messages
                    feature: CHAT_MESSAGE
                    meter: quantity
                    window: day
                    max: 100
                  - id: user-daily
                    meter: quantity
                    window: day
                    scope: user
                    max: 10
                    alertAt: [1.0]
                  - id: silent
                    meter: events
                    window: hour
                    max: 1
                    alertAt: []
              - id: prepaid
                prepaid: true
                lowBalanceAlertUsd: "5"
              - id: fine
                limits:
                  - id: daily-tenths
                    meter: quantity
                    window: day
                    max: 100
                    alertAt: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
            """;

    private static void messages(ApiServer s, String org, String user, long n) {
        s.clock.advance(Duration.ofSeconds(1));
        s.sink.messages(org, user, s.clock.instant(), n);
    }

    private static String register(ApiServer s, WebhookReceiver receiver, String extra) {
        ApiServer.Response r = s.post("/api/v1/webhooks", ApiServer.ADMIN,
                "{\"url\":" + ApiServer.quote(receiver.url()) + extra + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        receiver.secret(r.text("/secret"));
        return r.text("/id");
    }

    private static List<JsonNode> alerts(ApiServer s, String org) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String body : s.db.fetch("SELECT body FROM metering.alerts WHERE org_id = ? ORDER BY id", org)
                .getValues(0, String.class)) {
            out.add(JSON.readTree(body));
        }
        return out;
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void shouldDeliverEightyThenHundredPercentOnceEachWithVerifiedSignaturesAndExactPayloads() throws Exception {
        try (ApiServer s = ApiServer.start("alerts_daily"); WebhookReceiver receiver = new WebhookReceiver(s.clock);
             WebhookReceiver otherOrg = new WebhookReceiver(s.clock); WebhookReceiver otherType = new WebhookReceiver(s.clock)) {
            s.applyCatalog(CATALOG);
            String hook = register(s, receiver, ",\"events\":[\"limit.threshold_reached\"]");
            register(s, otherOrg, ",\"orgId\":\"globex\"");
            register(s, otherType, ",\"events\":[\"balance.low\",\"credits.expiring\"]");

            messages(s, "acme", "", 79);
            s.api.alerting().detector().runOnce();
            assertThat(alerts(s, "acme")).isEmpty();

            messages(s, "acme", "", 1);
            Instant at80 = s.clock.instant();
            s.api.alerting().detector().runOnce();
            messages(s, "acme", "", 20);
            Instant at100 = s.clock.instant();
            s.api.alerting().detector().runOnce();
            messages(s, "acme", "", 5);
            s.api.alerting().detector().runOnce();

            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.received().size() == 2);
            // deliveries are concurrent: no order between them (the payload's timestamp orders them)
            List<WebhookReceiver.Received> got = receiver.received().stream()
                    .sorted(java.util.Comparator.comparing(WebhookReceiver.Received::body)).toList();
            assertThat(got).allSatisfy(r -> assertThat(r.verified()).isTrue());
            assertThat(got.get(0).id()).startsWith("msg_").isNotEqualTo(got.get(1).id());
            assertThat(json(got.get(0).body())).isEqualTo(json("""
                    {"type":"limit.threshold_reached","timestamp":"%s","data":{"orgId":"acme","limitId":"daily-messages",
                     "feature":"CHAT_MESSAGE","meter":"quantity","window":"day","scope":"org","threshold":0.8,"used":80,
                     "limit":100,"windowStart":"2026-11-22T00:00:00Z","resetsAt":"2026-11-23T00:00:00Z","planId":"free"}}
                    """.formatted(at80)));
            assertThat(json(got.get(1).body())).isEqualTo(json("""
                    {"type":"limit.threshold_reached","timestamp":"%s","data":{"orgId":"acme","limitId":"daily-messages",
                     "feature":"CHAT_MESSAGE","meter":"quantity","window":"day","scope":"org","threshold":1,"used":100,
                     "limit":100,"windowStart":"2026-11-22T00:00:00Z","resetsAt":"2026-11-23T00:00:00Z","planId":"free"}}
                    """.formatted(at100)));
            assertThat(alerts(s, "acme")).hasSize(2);

            await().atMost(Duration.ofSeconds(10)).until(() -> s.get("/api/v1/webhooks/" + hook + "/deliveries?status=delivered",
                    ApiServer.ADMIN).json().get("items").size() == 2);
            ApiServer.Response log = s.get("/api/v1/webhooks/" + hook + "/deliveries", ApiServer.ADMIN);
            assertThat(log.json().get("items")).hasSize(2);
            for (JsonNode d : log.json().get("items")) {
                assertThat(d.get("status").asText()).isEqualTo("delivered");
                assertThat(d.get("attemptCount").asInt()).isEqualTo(1);
                assertThat(d.get("attempts").get(0).get("statusCode").asInt()).isEqualTo(200);
                assertThat(d.get("eventType").asText()).isEqualTo("limit.threshold_reached");
            }
            assertThat(otherOrg.received()).isEmpty();
            assertThat(otherType.received()).isEmpty();
            assertThat(s.get("/metrics", null).body()).contains("metering_alerts_recorded_total{type=\"limit.threshold_reached\"} 2.0")
                    .contains("metering_webhook_deliveries_total{outcome=\"delivered\"} 2.0");
        }
    }

    @Test
    void shouldAlertEveryOrgOfManyFeedPagesWrittenBetweenTwoPassesInOnePass() throws Exception {
        try (ApiServer s = ApiServer.start("alerts_feed_pages")) {
            s.applyCatalog(CATALOG);
            s.api.alerting().detector().runOnce();
            // three feed rows an org (hour, org hour, org day): 750 rows, several pages of 100
            int orgs = 250;
            for (int i = 0; i < orgs; i++) {
                s.sink.messages("org-" + i, "", s.clock.instant(), 80);
            }

            assertThat(s.api.alerting().detector().runOnce()).isEqualTo(orgs);
            assertThat(s.db.resultQuery("SELECT count(DISTINCT org_id) FROM metering.alerts").fetchOne(0, Integer.class))
                    .isEqualTo(orgs);
            assertThat(s.api.alerting().detector().runOnce()).isZero();
        }
    }

    @Test
    void shouldRecordEachThresholdOfAJumpAlertAgainInANewWindowAndPerUser() throws Exception {
        try (ApiServer s = ApiServer.start("alerts_windows")) {
            s.applyCatalog(CATALOG);
            messages(s, "acme", "u1", 10);
            messages(s, "acme", "u2", 5);
            messages(s, "acme", "", 135);
            s.api.alerting().detector().runOnce();
            List<JsonNode> first = alerts(s, "acme");
            assertThat(first).extracting(a -> a.at("/data/limitId").asText() + "@" + a.at("/data/threshold").asText()
                            + (a.at("/data/userId").isMissingNode() ? "" : "/" + a.at("/data/userId").asText()))
                    .containsExactlyInAnyOrder("daily-messages@0.8", "daily-messages@1", "user-daily@1/u1");

            s.clock.advance(Duration.ofDays(1));
            messages(s, "acme", "", 90);
            s.api.alerting().detector().runOnce();
            List<JsonNode> all = alerts(s, "acme");
            assertThat(all).hasSize(4);
            assertThat(all.get(3).at("/data/windowStart").asText()).isEqualTo("2026-11-23T00:00:00Z");
            assertThat(all.get(3).at("/data/threshold").asText()).isEqualTo("0.8");
            assertThat(all.get(3).at("/data/used").asLong()).isEqualTo(90);
        }
    }

    @Test
    void shouldRecordEachCrossingOnceWhenTwoInstancesDetectConcurrently() throws Exception {
        String url = ApiServer.freshDatabase("alerts_two_instances");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ApiServer a = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
             ApiServer b = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
             WebhookReceiver receiver = new WebhookReceiver(a.clock)) {
            a.applyCatalog(CATALOG);
            register(a, receiver, "");
            a.subscribe("acme", "{\"planId\":\"fine\"}");
            await().atMost(Duration.ofSeconds(10)).until(() -> b.check("acme", "CHAT_MESSAGE", null).text("/plan").equals("fine"));
            CyclicBarrier barrier = new CyclicBarrier(2);
            for (long n : new long[] {25, 30, 45}) {
                messages(a, "acme", "", n);
                b.clock.set(a.clock.instant());
                Future<Integer> fa = pool.submit(() -> { barrier.await(); return a.api.alerting().detector().runOnce(); });
                Future<Integer> fb = pool.submit(() -> { barrier.await(); return b.api.alerting().detector().runOnce(); });
                fa.get();
                fb.get();
            }
            assertThat(alerts(a, "acme")).extracting(j -> j.at("/data/threshold").asText())
                    .containsExactly("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1");
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.received().size() >= 10);
            assertThat(receiver.received()).hasSize(10).allSatisfy(r -> assertThat(r.verified()).isTrue());
            assertThat(receiver.received().stream().map(WebhookReceiver.Received::id).distinct()).hasSize(10);
            await().atMost(Duration.ofSeconds(10)).until(() -> ((Number) a.db.fetchValue(
                    "SELECT count(*) FROM metering.webhook_deliveries WHERE status = 'delivered' AND attempts = 1")).intValue() == 10);
            assertThat(((Number) a.db.fetchValue("SELECT count(*) FROM metering.webhook_deliveries")).intValue()).isEqualTo(10);
            assertThat(recorded(a) + recorded(b)).isEqualTo(10);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long recorded(ApiServer s) {
        Matcher m = Pattern.compile("metering_alerts_recorded_total\\{type=\"limit.threshold_reached\"} ([0-9.]+)")
                .matcher(s.get("/metrics", null).body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void shouldAlertLowBalanceOncePerDownwardCrossingAndReArmAfterATopUp() throws Exception {
        try (ApiServer s = ApiServer.start("alerts_balance")) {
            s.applyCatalog(CATALOG);
            s.subscribe("pre", "{\"planId\":\"prepaid\"}");
            s.clock.advance(Duration.ofSeconds(1));
            assertThat(s.post("/api/v1/orgs/pre/credits", ApiServer.ADMIN, "{\"amountUsd\":\"10\"}").status()).isEqualTo(201);
            s.clock.advance(Duration.ofSeconds(1));
            s.sink.cost("pre", "AI_COMPLETION", s.clock.instant(), "6");
            s.api.alerting().detector().runOnce();
            s.clock.advance(Duration.ofSeconds(1));
            s.sink.cost("pre", "AI_COMPLETION", s.clock.instant(), "0.5");
            s.api.alerting().detector().runOnce();
            assertThat(alerts(s, "pre")).extracting(j -> j.get("data").toString())
                    .containsExactly("{\"orgId\":\"pre\",\"balanceUsd\":\"4\",\"thresholdUsd\":\"5\"}");

            s.clock.advance(Duration.ofSeconds(1));
            assertThat(s.post("/api/v1/orgs/pre/credits", ApiServer.ADMIN, "{\"amountUsd\":\"10\"}").status()).isEqualTo(201);
            s.api.alerting().detector().runOnce();
            assertThat((Boolean) s.db.fetchValue("SELECT below FROM metering.low_balance_state WHERE org_id = 'pre'")).isFalse();
            s.clock.advance(Duration.ofSeconds(1));
            s.sink.cost("pre", "AI_COMPLETION", s.clock.instant(), "9");
            s.api.alerting().detector().runOnce();
            s.api.alerting().detector().runOnce();
            List<JsonNode> all = alerts(s, "pre");
            assertThat(all).extracting(j -> j.get("type").asText() + " " + j.at("/data/balanceUsd").asText())
                    .containsExactly("balance.low 4", "balance.low 4.5");
        }
    }

    @Test
    void shouldAlertCreditsExpiringWithinSevenDaysOncePerGrant() throws Exception {
        try (ApiServer s = ApiServer.start("alerts_expiring")) {
            s.applyCatalog(CATALOG);
            Instant soon = ApiServer.T0.plus(Duration.ofDays(3));
            Instant later = ApiServer.T0.plus(Duration.ofDays(30));
            String a = s.post("/api/v1/orgs/acme/credits", ApiServer.ADMIN,
                    "{\"amountUsd\":\"7.5\",\"expiresAt\":\"" + soon + "\"}").text("/id");
            String b = s.post("/api/v1/orgs/acme/credits", ApiServer.ADMIN,
                    "{\"amountUsd\":\"20\",\"expiresAt\":\"" + later + "\"}").text("/id");
            s.post("/api/v1/orgs/acme/credits", ApiServer.ADMIN, "{\"amountUsd\":\"1\"}");
            s.clock.advance(Duration.ofSeconds(61));
            await().atMost(Duration.ofSeconds(15)).until(() -> { s.api.alerting().detector().runOnce(); return alerts(s, "acme").size() == 1; });
            s.clock.advance(Duration.ofSeconds(61));
            s.api.alerting().detector().runOnce();
            s.clock.advance(Duration.ofDays(24));
            await().atMost(Duration.ofSeconds(15)).until(() -> { s.api.alerting().detector().runOnce(); return alerts(s, "acme").size() == 2; });
            s.clock.advance(Duration.ofSeconds(61));
            s.api.alerting().detector().runOnce();
            assertThat(alerts(s, "acme")).extracting(j -> j.get("type").asText() + " " + j.get("data").toString()).containsExactly(
                    "credits.expiring {\"orgId\":\"acme\",\"grantId\":" + a + ",\"amountUsd\":\"7.5\",\"expiresAt\":\"" + soon + "\"}",
                    "credits.expiring {\"orgId\":\"acme\",\"grantId\":" + b + ",\"amountUsd\":\"20\",\"expiresAt\":\"" + later + "\"}");
        }
    }

    @Test
    void shouldAlertWhenACatalogOrASubscriptionLowersALimitBelowUsageWithoutNewUsage() throws Exception {
        try (ApiServer s = ApiServer.start("alerts_changes"); WebhookReceiver receiver = new WebhookReceiver(s.clock)) {
            s.applyCatalog(CATALOG);
            register(s, receiver, ",\"orgId\":\"acme\"");
            messages(s, "acme", "", 70);
            s.api.alerting().detector().runOnce();
            assertThat(alerts(s, "acme")).isEmpty();

            // daily-messages 100 -> 80: 70 is past 80% of it; no usage arrives meanwhile
            s.applyCatalog(CATALOG.replaceFirst("max: 100\n", "max: 80\n"));
            s.clock.advance(Duration.ofSeconds(1));
            s.api.alerting().detector().runOnce();
            assertThat(alerts(s, "acme")).extracting(j -> j.at("/data/threshold").asText() + " " + j.at("/data/used").asText()
                    + "/" + j.at("/data/limit").asText()).containsExactly("0.8 70/80");

            // an override of 70 through another instance: 100%
            try (ApiServer other = ApiServer.start(s.jdbcUrl, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
                other.clock.set(s.clock.instant());
                await().atMost(Duration.ofSeconds(10)).until(() -> other.api.service().catalog().version() == 2);
                other.subscribe("acme", "{\"planId\":\"free\",\"overrides\":{\"daily-messages\":70}}");
            }
            s.clock.advance(Duration.ofSeconds(1));
            s.api.alerting().detector().runOnce();
            s.api.alerting().detector().runOnce();
            assertThat(alerts(s, "acme")).extracting(j -> j.at("/data/threshold").asText() + " " + j.at("/data/used").asText()
                    + "/" + j.at("/data/limit").asText()).containsExactly("0.8 70/80", "1 70/70");
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.received().size() == 2);
            assertThat(receiver.received()).allSatisfy(r -> assertThat(r.verified()).isTrue());
        }
    }
}
