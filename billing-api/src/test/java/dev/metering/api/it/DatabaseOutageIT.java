package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.api.it.ApiServer.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.api.auth.ApiKeyCache;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL really stopped: checks answer at once from the usage and account this instance last
 * read, {@code stale: true}, and follow the stale policy; an org never seen is allowed under
 * fail-open and refused under fail-closed; other requests that need the database answer 503
 * UNAVAILABLE; {@code /ready} says the database is down. Once PostgreSQL is back, checks read it again.
 */
class DatabaseOutageIT {

    private static final PostgresServer PG = TestInfra.postgres();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - { id: daily-messages, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 5 }
            """;
    /** Far above a check's latency, far below the pool's 2 s connection timeout. */
    private static final Duration FAST = Duration.ofSeconds(1);

    @Test
    void shouldAnswerFromLastKnownUsageAndAllowUnseenOrgsWhenPostgresIsStoppedUnderFailOpen() throws Exception {
        try (ApiServer server = ApiServer.start(ApiServer.freshDatabase("outage_open"), EnforcementMode.ENFORCE, 0,
                StalePolicy.FAIL_OPEN)) {
            JsonNode fresh = seenBeforeTheOutage(server);
            String orgKey = server.createKey("acme", "check")[1];
            assertThat(server.get("/api/v1/usage/acme/check/CHAT_MESSAGE", orgKey).status()).isEqualTo(200);
            stopPostgres(server);
            try {
                Response known = timedCheck(server, "acme");
                assertThat(known.status()).isEqualTo(200);
                assertThat(known.json()).isEqualTo(((ObjectNode) fresh.deepCopy()).put("stale", true));

                // an org key cached before the outage keeps working past the key cache's TTL, without waiting
                server.clock.advance(ApiKeyCache.TTL.plusSeconds(1));
                long start = System.nanoTime();
                Response byKey = server.get("/api/v1/usage/acme/check/CHAT_MESSAGE", orgKey);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(FAST);
                assertThat(byKey.status()).isEqualTo(200);
                assertThat(byKey.json().get("stale").asBoolean()).isTrue();

                Response unseen = timedCheck(server, "never-seen-org");
                assertThat(unseen.status()).isEqualTo(200);
                assertThat(unseen.json()).isEqualTo(JSON.readTree("""
                        {"orgId":"never-seen-org","feature":"CHAT_MESSAGE","allowed":true,"code":null,"message":null,
                         "suggestedStatus":200,"retryAfterSeconds":null,"mode":"enforce","wouldBlock":false,
                         "plan":null,"limits":[],"balanceUsd":null,"usageAsOf":"2026-11-22T18:30:00Z","stale":true,"warnings":[]}
                        """));

                assertDatabaseDownElsewhere(server);
            } finally {
                PG.start();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> !server.api.service().breaker().isOpen());
            assertThat(server.check("acme", "CHAT_MESSAGE", null).json()).isEqualTo(fresh);
        }
    }

    @Test
    void shouldRefuseWithUsageDataStaleWhenPostgresIsStoppedUnderFailClosed() throws Exception {
        try (ApiServer server = ApiServer.start(ApiServer.freshDatabase("outage_closed"), EnforcementMode.ENFORCE, 0,
                StalePolicy.FAIL_CLOSED)) {
            JsonNode fresh = seenBeforeTheOutage(server);
            stopPostgres(server);
            try {
                Response known = timedCheck(server, "acme");
                assertThat(known.status()).isEqualTo(200);
                ObjectNode expected = ((ObjectNode) fresh.deepCopy())
                        .put("allowed", false).put("code", "USAGE_DATA_STALE")
                        .put("message", "Usage data is stale (as of 2026-11-22T18:30:00Z) and the stale policy is fail-closed")
                        .put("suggestedStatus", 503).put("wouldBlock", true).put("stale", true);
                assertThat(known.json()).isEqualTo(expected);

                Response unseen = timedCheck(server, "never-seen-org");
                assertThat(unseen.status()).isEqualTo(200);
                assertThat(unseen.json()).isEqualTo(JSON.readTree("""
                        {"orgId":"never-seen-org","feature":"CHAT_MESSAGE","allowed":false,"code":"USAGE_DATA_STALE",
                         "message":"The database is unavailable and this instance has no usage of the org; the stale policy is fail-closed",
                         "suggestedStatus":503,"retryAfterSeconds":null,"mode":"enforce","wouldBlock":true,
                         "plan":null,"limits":[],"balanceUsd":null,"usageAsOf":"2026-11-22T18:30:00Z","stale":true,"warnings":[]}
                        """));

                assertDatabaseDownElsewhere(server);
            } finally {
                PG.start();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> !server.api.service().breaker().isOpen());
            assertThat(server.check("acme", "CHAT_MESSAGE", null).json()).isEqualTo(fresh);
        }
    }

    /** acme used 3 of its 5 daily messages, checked once while the database was up; the answer is fresh. */
    private static JsonNode seenBeforeTheOutage(ApiServer server) {
        server.applyCatalog(CATALOG);
        server.sink.messages("acme", "u1", Instant.parse("2026-11-22T10:00:00Z"), 3).progress(T0);
        server.api.service().cache().refresh();
        Response fresh = server.check("acme", "CHAT_MESSAGE", null);
        assertThat(fresh.status()).isEqualTo(200);
        assertThat(fresh.json().get("allowed").asBoolean()).isTrue();
        assertThat(fresh.json().get("stale").asBoolean()).isFalse();
        assertThat(fresh.json().at("/limits/0/used").asLong()).isEqualTo(3);
        return fresh.json();
    }

    /** Stops PostgreSQL and waits until the background refresh has seen it gone. */
    private static void stopPostgres(ApiServer server) {
        PG.stop();
        await().atMost(Duration.ofSeconds(30)).until(() -> server.api.service().breaker().isOpen());
    }

    private static Response timedCheck(ApiServer server, String org) {
        long start = System.nanoTime();
        Response r = server.check(org, "CHAT_MESSAGE", null);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.printf("check of %s with PostgreSQL stopped: HTTP %d in %.2f ms%n", org, r.status(),
                took.toNanos() / 1e6);
        assertThat(took).isLessThan(FAST);
        return r;
    }

    private static void assertDatabaseDownElsewhere(ApiServer server) {
        Response ready = server.get("/ready", null);
        assertThat(ready.status()).isEqualTo(503);
        assertThat(ready.text("/database")).isEqualTo("down");
        assertThat(ready.text("/stalled")).isEqualTo("database");
        assertThat(ready.text("/reason")).isEqualTo("the database is unavailable");
        assertThat(server.get("/health", null).status()).isEqualTo(200);
        Response credits = server.post("/api/v1/orgs/acme/credits", ADMIN, "{\"amountUsd\":\"1\"}");
        assertThat(credits.status()).isEqualTo(503);
        assertThat(credits.text("/error/code")).isEqualTo("UNAVAILABLE");
    }
}
