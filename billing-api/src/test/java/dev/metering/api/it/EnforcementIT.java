package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runtime enforcement (seed 000's canary 10 -> 50 -> 100 %, seed 003's emergency switch): stored
 * in PostgreSQL, followed by a second instance within a second, every change logged with the key
 * id, and an org's own mode that creates no subscription and touches no period or credit.
 */
class EnforcementIT {

    /** Every check of the default plan is over its limit (max 0). */
    private static final String ALWAYS_OVER = """
            defaultPlan: closed
            plans:
              - id: closed
                welcomeCreditUsd: "5"
                limits:
                  - { id: none, meter: quantity, window: day, max: 0 }
            """;

    private static String mode(ApiServer s, String org) {
        return s.check(org, "CHAT_MESSAGE", null).text("/mode");
    }

    @Test
    void shouldFollowAGlobalChangeOnEveryInstanceWithinASecondAndKeepTheStoredModeOverTheEnvironment() {
        String url = ApiServer.freshDatabase("billing_enforcement_global");
        try (ApiServer a = ApiServer.start(url, EnforcementMode.SHADOW, 0, StalePolicy.FAIL_OPEN);
             ApiServer b = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            a.applyCatalog(ALWAYS_OVER);
            // the first instance seeded the setting; the second one's environment changed nothing
            assertThat(b.get("/api/v1/enforcement", ApiServer.ADMIN).json().get("mode").asText()).isEqualTo("shadow");
            assertThat(mode(b, "org-1")).isEqualTo("shadow");

            String[] key = a.createKey(null, "admin");
            for (String[] step : new String[][] {{"shadow", "50"}, {"enforce", "0"}, {"off", "0"}}) {
                Response put = a.putJson("/api/v1/enforcement", key[1],
                        "{\"mode\":\"" + step[0] + "\",\"canaryPercent\":" + step[1] + "}");
                assertThat(put.status()).isEqualTo(200);
                assertThat(put.text("/mode")).isEqualTo(step[0]);
                assertThat(put.json().get("canaryPercent").asInt()).isEqualTo(Integer.parseInt(step[1]));
                assertThat(put.text("/updatedBy")).isEqualTo(key[0]);
                long changedAt = System.nanoTime();
                await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                        assertThat(b.get("/api/v1/enforcement", ApiServer.ADMIN).text("/mode")).isEqualTo(step[0]));
                System.out.printf("instance b followed %s/%s after %d ms%n", step[0], step[1],
                        (System.nanoTime() - changedAt) / 1_000_000);
            }
            assertThat(b.check("org-1", "CHAT_MESSAGE", null).json().get("allowed").asBoolean()).isTrue();

            List<String> log = new ArrayList<>();
            a.get("/api/v1/enforcement/changes", ApiServer.ADMIN).json().get("changes").forEach(c -> log.add(
                    c.get("changedBy").asText() + " " + c.get("changedAt").asText() + " " + c.get("mode").asText() + "/"
                            + c.get("canaryPercent").asText() + " from " + c.get("previousMode").asText()));
            assertThat(log).containsExactly(
                    key[0] + " 2026-11-22T18:30:00Z off/0 from enforce",
                    key[0] + " 2026-11-22T18:30:00Z enforce/0 from shadow",
                    key[0] + " 2026-11-22T18:30:00Z shadow/50 from shadow",
                    "environment 2026-11-22T18:30:00Z shadow/0 from null");
        }
        // a restart with another environment keeps the stored mode
        try (ApiServer c = ApiServer.start(url, EnforcementMode.ENFORCE, 100, StalePolicy.FAIL_OPEN)) {
            assertThat(mode(c, "org-1")).isEqualTo("off");
        }
    }

    @Test
    void shouldEnforceOneOrgWithoutCreatingASubscriptionOrGrantingCredit() {
        String url = ApiServer.freshDatabase("billing_enforcement_org");
        try (ApiServer a = ApiServer.start(url, EnforcementMode.SHADOW, 0, StalePolicy.FAIL_OPEN);
             ApiServer b = ApiServer.start(url, EnforcementMode.SHADOW, 0, StalePolicy.FAIL_OPEN)) {
            a.applyCatalog(ALWAYS_OVER);
            assertThat(mode(b, "pilot")).isEqualTo("shadow");

            Response put = a.putJson("/api/v1/orgs/pilot/enforcement", ApiServer.ADMIN, "{\"mode\":\"enforce\"}");
            assertThat(put.status()).isEqualTo(201);
            assertThat(put.body()).isEqualTo("{\"orgId\":\"pilot\",\"mode\":\"enforce\",\"updatedAt\":"
                    + "\"2026-11-22T18:30:00Z\",\"updatedBy\":\"bootstrap-admin\"}");
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                    assertThat(b.check("pilot", "CHAT_MESSAGE", null).json().get("allowed").asBoolean()).isFalse());
            assertThat(mode(b, "other")).isEqualTo("shadow");

            assertThat(a.get("/api/v1/orgs/pilot/subscription", ApiServer.ADMIN).status()).isEqualTo(404);
            assertThat(a.db.fetchCount(a.db.selectFrom("metering.subscriptions"))).isZero();
            assertThat(a.db.fetchCount(a.db.selectFrom("metering.credit_grants"))).isZero();
            assertThat(a.get("/api/v1/orgs/pilot/balance", ApiServer.ADMIN).text("/grantedUsd")).isEqualTo("0");

            assertThat(a.putJson("/api/v1/orgs/pilot/enforcement", ApiServer.ADMIN, "{\"mode\":\"off\"}").status())
                    .isEqualTo(200);
            assertThat(a.delete("/api/v1/orgs/pilot/enforcement", ApiServer.ADMIN).status()).isEqualTo(204);
            assertThat(a.delete("/api/v1/orgs/pilot/enforcement", ApiServer.ADMIN).status()).isEqualTo(404);
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                    assertThat(mode(b, "pilot")).isEqualTo("shadow"));

            // an org's own mode wins over its subscription's
            a.subscribe("sub-org", "{\"planId\":\"closed\",\"enforcement\":\"off\"}");
            assertThat(mode(a, "sub-org")).isEqualTo("off");
            a.putJson("/api/v1/orgs/sub-org/enforcement", ApiServer.ADMIN, "{\"mode\":\"enforce\"}");
            assertThat(mode(a, "sub-org")).isEqualTo("enforce");

            List<String> log = new ArrayList<>();
            a.get("/api/v1/enforcement/changes?limit=4", ApiServer.ADMIN).json().get("changes").forEach(c -> log.add(
                    c.get("orgId").asText() + " " + c.get("mode").asText() + " from " + c.get("previousMode").asText()));
            assertThat(log).containsExactly("sub-org enforce from null", "pilot null from off", "pilot off from enforce",
                    "pilot enforce from null");
        }
    }

    @Test
    void shouldRollOutSeed000sCanaryTenFiftyHundredAndSwitchOffInAnEmergencyWithoutRestart() {
        String url = ApiServer.freshDatabase("billing_enforcement_rollout");
        try (ApiServer a = ApiServer.start(url, EnforcementMode.SHADOW, 0, StalePolicy.FAIL_OPEN);
             ApiServer b = ApiServer.start(url, EnforcementMode.SHADOW, 0, StalePolicy.FAIL_OPEN)) {
            a.applyCatalog(dev.metering.api.plan.ExampleCatalogs.text(dev.metering.api.plan.ExampleCatalogs.SEED_000));
            List<String> orgs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                orgs.add("biz-" + i);
                a.sink.messages("biz-" + i, "", ApiServer.T0.minusSeconds(600), 200); // the TRIAL day is used up
            }
            for (int percent : new int[] {10, 50, 100}) {
                a.putJson("/api/v1/enforcement", ApiServer.ADMIN, "{\"mode\":\"shadow\",\"canaryPercent\":" + percent + "}");
                long expected = orgs.stream().filter(o -> dev.metering.api.check.ModePolicy.bucket(o) < percent).count();
                await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                        assertThat(orgs.stream().filter(o -> !b.check(o, "CHAT_MESSAGE", null).json()
                                .get("allowed").asBoolean()).count()).isEqualTo(expected));
                System.out.printf("canary %d%%: %d of %d orgs blocked%n", percent, expected, orgs.size());
            }
            Response blocked = b.check("biz-0", "CHAT_MESSAGE", null);
            assertThat(blocked.text("/code")).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
            assertThat(blocked.json().get("retryAfterSeconds").asLong()).isEqualTo(19_800);

            // seed 003's emergency switch: everything off at once, on every instance
            a.putJson("/api/v1/enforcement", ApiServer.ADMIN, "{\"mode\":\"off\",\"canaryPercent\":0}");
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                    assertThat(orgs.stream().filter(o -> !b.check(o, "CHAT_MESSAGE", null).json()
                            .get("allowed").asBoolean()).count()).isZero());
        }
    }

    @Test
    void shouldRefuseBadInputNamingTheFieldAndNonAdmins() {
        try (ApiServer s = ApiServer.start("billing_enforcement_bad_input")) {
            String orgKey = s.createKey("acme", "read", "check")[1];
            assertThat(field(s.putJson("/api/v1/enforcement", ApiServer.ADMIN, "{\"mode\":\"loud\"}"))).isEqualTo("mode");
            assertThat(field(s.putJson("/api/v1/enforcement", ApiServer.ADMIN, "{\"canaryPercent\":101}")))
                    .isEqualTo("canaryPercent");
            assertThat(field(s.putJson("/api/v1/enforcement", ApiServer.ADMIN, "{\"canaryPercent\":\"ten\"}")))
                    .isEqualTo("canaryPercent");
            assertThat(field(s.putJson("/api/v1/enforcement", ApiServer.ADMIN, "{\"canaryPercent\":1.5}")))
                    .isEqualTo("canaryPercent");
            assertThat(field(s.putJson("/api/v1/enforcement", ApiServer.ADMIN, "{}"))).isEqualTo("mode");
            assertThat(field(s.putJson("/api/v1/enforcement", ApiServer.ADMIN, "{\"mode\":\"off\",\"colour\":1}")))
                    .isEqualTo("colour");
            assertThat(s.putJson("/api/v1/enforcement", ApiServer.ADMIN, "[1]").status()).isEqualTo(400);
            assertThat(field(s.putJson("/api/v1/orgs/acme/enforcement", ApiServer.ADMIN, "{}"))).isEqualTo("mode");
            assertThat(field(s.putJson("/api/v1/orgs/acme/enforcement", ApiServer.ADMIN, "{\"mode\":7}"))).isEqualTo("mode");
            assertThat(field(s.get("/api/v1/enforcement/changes?limit=x", ApiServer.ADMIN))).isEqualTo("limit");
            assertThat(field(s.putJson("/api/v1/orgs/" + "x".repeat(257) + "/enforcement", ApiServer.ADMIN,
                    "{\"mode\":\"off\"}"))).isEqualTo("orgId");
            assertThat(s.putJson("/api/v1/enforcement", orgKey, "{\"mode\":\"off\"}").status()).isEqualTo(403);
            assertThat(s.get("/api/v1/enforcement", orgKey).status()).isEqualTo(403);
            assertThat(s.putJson("/api/v1/orgs/acme/enforcement", orgKey, "{\"mode\":\"off\"}").status()).isEqualTo(403);
            assertThat(s.delete("/api/v1/orgs/acme/enforcement", null).status()).isEqualTo(401);
            assertThat(s.get("/api/v1/enforcement", ApiServer.ADMIN).text("/mode")).isEqualTo("enforce");
        }
    }

    private static String field(Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        return r.text("/error/field");
    }
}
