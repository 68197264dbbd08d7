package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.api.it.ApiServer.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code PUT /api/v1/plans?dryRun=true}: orgs blocked now under each catalog; an identical catalog is no new version. */
class CatalogImpactIT {

    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 200 }
                  - { id: per-user, feature: CHAT_MESSAGE, meter: quantity, window: day, scope: user, max: 1 }
              - id: pro
                limits:
                  - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 5000 }
            """;

    @Test
    void shouldCountOrgsBlockedNowUnderEachCatalogAndStoreNoVersionForAnIdenticalOne() {
        try (ApiServer s = ApiServer.start("billing_catalog_impact")) {
            s.applyCatalog(CATALOG);
            s.subscribe("pro-org", "{\"planId\":\"pro\"}");
            s.sink.messages("full", "u1", T0.minusSeconds(3600), 200)      // blocked under both
                    .messages("busy", "u1", T0.minusSeconds(3600), 150)    // blocked once the free limit is 100
                    .messages("calm", "u1", T0.minusSeconds(3600), 99)     // never blocked
                    .messages("pro-org", "u1", T0.minusSeconds(3600), 300) // pro: 5000, then 250
                    .messages("gone", "u1", T0.minus(Duration.ofDays(40)), 500); // idle 40 days: not assessed

            String stricter = CATALOG.replace("max: 200", "max: 100").replace("max: 5000", "max: 250");
            Response dry = s.put("/api/v1/plans?dryRun=true", ADMIN, "application/yaml", stricter);
            assertThat(dry.status()).isEqualTo(200);
            assertThat(dry.body()).isEqualTo("{\"valid\":true,\"defaultPlan\":\"free\",\"plans\":[\"free\",\"pro\"],"
                    + "\"unchanged\":false,\"orgs\":4,\"blockedNow\":3,\"blockedNowBefore\":1,"
                    + "\"newlyBlocked\":[\"busy\",\"pro-org\"]}");
            assertThat(s.get("/api/v1/plans", ADMIN).json().get("version").asLong()).as("a dry run stores nothing")
                    .isEqualTo(1);

            Response same = s.put("/api/v1/plans?dryRun=true", ADMIN, "application/yaml", "# comments only\n" + CATALOG);
            assertThat(same.json().get("unchanged").asBoolean()).isTrue();
            assertThat(same.json().get("blockedNow").asInt()).isEqualTo(1);
            assertThat(same.json().get("blockedNowBefore").asInt()).isEqualTo(1);

            Response again = s.put("/api/v1/plans", ADMIN, "application/yaml", "# comments only\n" + CATALOG);
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.json().get("version").asLong()).isEqualTo(1);
            assertThat(s.db.fetchCount(s.db.selectFrom("metering.plan_catalogs"))).isEqualTo(1);
            assertThat(s.put("/api/v1/plans", ADMIN, "application/yaml", stricter).json().get("version").asLong())
                    .isEqualTo(2);

            Response bad = s.put("/api/v1/plans?dryRun=yes", ADMIN, "application/yaml", CATALOG);
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.text("/error/field")).isEqualTo("dryRun");
        }
    }
}
