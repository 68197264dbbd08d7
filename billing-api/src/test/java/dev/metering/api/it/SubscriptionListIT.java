package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.it.ApiServer.Response;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GET /api/v1/subscriptions over real HTTP on the real PostgreSQL: filters, cursor pages, admin only. */
class SubscriptionListIT {

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_subscription_list");
        server.applyCatalog(ApiServer.FREE_AND_PRO);
        server.subscribe("org-a", "{\"planId\":\"pro\",\"seats\":3,\"overrides\":{\"daily\":2000}}");
        server.subscribe("org-b", "{\"planId\":\"free\"}");
        server.subscribe("org-c", "{\"planId\":\"pro\",\"status\":\"suspended\"}");
        server.subscribe("org-e", "{\"planId\":\"pro\"}");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static List<String> orgs(Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> orgs = new ArrayList<>();
        r.json().get("items").forEach(s -> orgs.add(s.get("orgId").asText()));
        return orgs;
    }

    @Test
    void shouldListEverySubscriptionInOrgOrderWithItsOverrides() {
        Response r = server.get("/api/v1/subscriptions", ADMIN);
        assertThat(orgs(r)).containsExactly("org-a", "org-b", "org-c", "org-e");
        assertThat(r.json().get("next").isNull()).isTrue();
        JsonNode a = r.json().get("items").get(0);
        assertThat(a.get("planId").asText()).isEqualTo("pro");
        assertThat(a.get("status").asText()).isEqualTo("active");
        assertThat(a.get("seats").asInt()).isEqualTo(3);
        assertThat(a.at("/overrides/daily").asLong()).isEqualTo(2000);
    }

    @Test
    void shouldFilterByPlanAndStatus() {
        assertThat(orgs(server.get("/api/v1/subscriptions?planId=pro", ADMIN))).containsExactly("org-a", "org-c", "org-e");
        assertThat(orgs(server.get("/api/v1/subscriptions?planId=pro&status=active", ADMIN)))
                .containsExactly("org-a", "org-e");
        assertThat(orgs(server.get("/api/v1/subscriptions?status=suspended", ADMIN))).containsExactly("org-c");
        assertThat(orgs(server.get("/api/v1/subscriptions?planId=enterprise", ADMIN))).isEmpty();
    }

    @Test
    void shouldPageWithoutRepeatingOrSkippingWhileOrgsAreAdded() {
        Response first = server.get("/api/v1/subscriptions?planId=pro&limit=2", ADMIN);
        assertThat(orgs(first)).containsExactly("org-a", "org-c");
        // added meanwhile: one before the cursor (not listed now), one after it (listed on the next page)
        server.subscribe("org-0", "{\"planId\":\"pro\"}");
        server.subscribe("org-d", "{\"planId\":\"pro\"}");
        try {
            Response second = server.get("/api/v1/subscriptions?planId=pro&limit=2&after="
                    + first.json().get("next").asText(), ADMIN);
            assertThat(orgs(second)).containsExactly("org-d", "org-e");
            Response third = server.get("/api/v1/subscriptions?planId=pro&limit=2&after="
                    + second.json().get("next").asText(), ADMIN);
            assertThat(orgs(third)).isEmpty();
            assertThat(third.json().get("next").isNull()).isTrue();
        } finally {
            server.db.execute("DELETE FROM metering.subscriptions WHERE org_id IN ('org-0', 'org-d')");
        }
    }

    @Test
    void shouldRefuseBadInputNamingTheFieldAndNonAdminKeys() {
        for (String[] c : new String[][] {{"status=paused", "status"}, {"limit=0", "limit"}, {"limit=1001", "limit"},
                {"limit=x", "limit"}, {"after=%25%25", "after"}, {"planId=" + "p".repeat(257), "planId"}}) {
            Response r = server.get("/api/v1/subscriptions?" + c[0], ADMIN);
            assertThat(r.status()).as(c[0]).isEqualTo(400);
            assertThat(r.text("/error/field")).as(c[0]).isEqualTo(c[1]);
        }
        String orgKey = server.createKey("org-a", "read")[1];
        assertThat(server.get("/api/v1/subscriptions", orgKey).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/subscriptions", null).status()).isEqualTo(401);
    }
}
