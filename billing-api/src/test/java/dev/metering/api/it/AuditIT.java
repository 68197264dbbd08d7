package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The audit log over real HTTP on the real PostgreSQL (docs/contract.md, Audit log): every change
 * of plans, subscriptions, credits, keys, enforcement and webhooks made through the API appears
 * with its actor, time and before/after; {@code GET /api/v1/audit} filters and pages; admins only.
 * Price changes need Kafka and are covered by PriceIT.
 */
class AuditIT {

    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 50 }]
              - id: pro
                welcomeCreditUsd: "2"
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 1000 }]
            """;

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_audit");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Entries of one entity (newest first). */
    private static List<JsonNode> entries(String query) {
        Response r = server.get("/api/v1/audit?limit=1000&" + query, ADMIN);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<JsonNode> out = new ArrayList<>();
        r.json().get("items").forEach(out::add);
        return out;
    }

    private static JsonNode latest(String entity, String entityId) {
        return entries("entity=" + entity).stream()
                .filter(e -> entityId == null || entityId.equals(e.path("entityId").asText(null)))
                .findFirst().orElseThrow(() -> new AssertionError("no audit entry for " + entity + " " + entityId));
    }

    @Test
    void shouldRecordCatalogAndSubscriptionChangesWithBeforeAndAfter() {
        server.applyCatalog(CATALOG);
        JsonNode plans = latest("plans", null);
        assertThat(plans.get("actor").asText()).isEqualTo("admin-token");
        assertThat(plans.get("action").asText()).isEqualTo("plans.apply");
        assertThat(plans.get("at").asText()).isEqualTo(server.clock.instant().toString());
        assertThat(plans.at("/after/plans").toString()).isEqualTo("[\"free\",\"pro\"]");
        assertThat(plans.at("/after/defaultPlan").asText()).isEqualTo("free");

        server.subscribe("aud-1", "{\"planId\":\"free\"}");
        server.subscribe("aud-1", "{\"planId\":\"pro\",\"seats\":3}");

        JsonNode sub = latest("subscription", "aud-1");
        assertThat(sub.get("action").asText()).isEqualTo("subscription.put");
        assertThat(sub.at("/before/planId").asText()).isEqualTo("free");
        assertThat(sub.at("/before/seats").asInt()).isEqualTo(1);
        assertThat(sub.at("/after/planId").asText()).isEqualTo("pro");
        assertThat(sub.at("/after/seats").asInt()).isEqualTo(3);
        assertThat(sub.at("/after/welcomeGrantId").isIntegralNumber()).isTrue();
        List<JsonNode> both = entries("entity=subscription").stream()
                .filter(e -> "aud-1".equals(e.get("entityId").asText())).toList();
        assertThat(both).hasSize(2);
        assertThat(both.get(1).get("before").isNull()).isTrue();
    }

    @Test
    void shouldRecordCreditGrantsAndImportsByTheCallingKey() {
        String[] admin = server.createKey(null, "admin");
        Response grant = server.post("/api/v1/orgs/aud-2/credits", admin[1],
                "{\"amountUsd\":\"7.50\",\"reason\":\"refund\"}");
        assertThat(grant.status()).isEqualTo(201);

        JsonNode credit = latest("credit", "aud-2");
        assertThat(credit.get("actor").asText()).isEqualTo(admin[0]);
        assertThat(credit.get("action").asText()).isEqualTo("credit.grant");
        assertThat(credit.get("before").isNull()).isTrue();
        assertThat(credit.at("/after/amountUsd").asText()).isEqualTo("7.50");
        assertThat(credit.at("/after/reason").asText()).isEqualTo("refund");
        assertThat(credit.at("/after/grantId").asLong()).isEqualTo(grant.json().get("id").asLong());

        Response imported = server.post("/api/v1/credits/import", ADMIN, "text/csv",
                "orgId,amountUsd,grantId\naud-3,1,g1\naud-4,2,g1\n", Duration.ofSeconds(30));
        assertThat(imported.status()).as(imported.body()).isEqualTo(200);
        JsonNode batch = entries("entity=credit&actor=admin-token").get(0);
        assertThat(batch.get("action").asText()).isEqualTo("credit.import");
        assertThat(batch.at("/after/granted").asInt()).isEqualTo(2);
        assertThat(batch.at("/after/amountUsd").asText()).isEqualTo("3");
        assertThat(batch.at("/after/orgIds").toString()).isEqualTo("[\"aud-3\",\"aud-4\"]");
    }

    @Test
    void shouldRecordKeyCreationAndRevocationWithoutTheSecret() {
        String[] key = server.createKey("aud-5", "read", "check");
        assertThat(server.delete("/api/v1/api-keys/" + key[0], ADMIN).status()).isEqualTo(204);

        List<JsonNode> log = entries("entity=api_key").stream()
                .filter(e -> key[0].equals(e.get("entityId").asText())).toList();
        assertThat(log).extracting(e -> e.get("action").asText()).containsExactly("api_key.revoke", "api_key.create");
        assertThat(log.get(1).at("/after/orgId").asText()).isEqualTo("aud-5");
        assertThat(log.get(1).at("/after/scopes").toString()).isEqualTo("[\"check\",\"read\"]");
        assertThat(log.get(0).at("/before/revokedAt").isNull()).isTrue();
        assertThat(log.get(0).at("/after/revokedAt").asText()).isEqualTo(server.clock.instant().toString());
        assertThat(log.toString()).doesNotContain(key[1]);
    }

    @Test
    void shouldRecordEnforcementAndWebhookChanges() {
        assertThat(server.putJson("/api/v1/enforcement", ADMIN, "{\"mode\":\"shadow\",\"canaryPercent\":20}").status())
                .isEqualTo(200);
        assertThat(server.putJson("/api/v1/orgs/aud-6/enforcement", ADMIN, "{\"mode\":\"off\"}").status()).isEqualTo(201);
        assertThat(server.delete("/api/v1/orgs/aud-6/enforcement", ADMIN).status()).isEqualTo(204);
        Response hook = server.post("/api/v1/webhooks", ADMIN, "{\"url\":\"https://example.com/audit-hook\"}");
        assertThat(hook.status()).isEqualTo(201);
        assertThat(server.delete("/api/v1/webhooks/" + hook.text("/id"), ADMIN).status()).isEqualTo(204);

        JsonNode global = latest("enforcement", null);
        assertThat(global.at("/before/mode").asText()).isEqualTo("enforce");
        assertThat(global.at("/after/mode").asText()).isEqualTo("shadow");
        assertThat(global.at("/after/canaryPercent").asInt()).isEqualTo(20);
        List<JsonNode> org = entries("entity=org_enforcement").stream()
                .filter(e -> "aud-6".equals(e.get("entityId").asText())).toList();
        assertThat(org).extracting(e -> e.get("action").asText())
                .containsExactly("org_enforcement.delete", "org_enforcement.put");
        assertThat(org.get(0).at("/before/mode").asText()).isEqualTo("off");
        assertThat(org.get(0).get("after").isNull()).isTrue();
        List<JsonNode> hooks = entries("entity=webhook").stream()
                .filter(e -> hook.text("/id").equals(e.get("entityId").asText())).toList();
        assertThat(hooks).extracting(e -> e.get("action").asText()).containsExactly("webhook.delete", "webhook.create");
        assertThat(hooks.get(1).at("/after/url").asText()).isEqualTo("https://example.com/audit-hook");
        assertThat(hooks.toString()).doesNotContain(hook.text("/secret"));
    }

    @Test
    void shouldPageNewestFirstWithACursorAndFilterByTime() {
        server.clock.set(ApiServer.T0.plus(Duration.ofDays(30)));
        for (int i = 0; i < 5; i++) {
            assertThat(server.post("/api/v1/orgs/aud-page/credits", ADMIN, "{\"amountUsd\":\"" + (i + 1) + "\"}").status())
                    .isEqualTo(201);
            server.clock.advance(Duration.ofMinutes(1));
        }
        String from = ApiServer.T0.plus(Duration.ofDays(30)).toString();

        Response first = server.get("/api/v1/audit?entity=credit&from=" + from + "&limit=2", ADMIN);
        Response second = server.get("/api/v1/audit?entity=credit&from=" + from + "&limit=2&after=" + first.text("/next"), ADMIN);
        Response third = server.get("/api/v1/audit?entity=credit&from=" + from + "&limit=2&after=" + second.text("/next"), ADMIN);
        Response window = server.get("/api/v1/audit?entity=credit&from=" + from + "&to="
                + ApiServer.T0.plus(Duration.ofDays(30)).plus(Duration.ofMinutes(2)), ADMIN);

        assertThat(amounts(first)).containsExactly("5", "4");
        assertThat(amounts(second)).containsExactly("3", "2");
        assertThat(amounts(third)).containsExactly("1");
        assertThat(third.json().get("next").isNull()).isTrue();
        assertThat(amounts(window)).containsExactly("2", "1");
        server.clock.set(ApiServer.T0);
    }

    private static List<String> amounts(Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        r.json().get("items").forEach(e -> out.add(e.at("/after/amountUsd").asText()));
        return out;
    }

    @Test
    void shouldRefuseOrgKeysAndBadParameters() {
        String orgKey = server.createKey("aud-7", "read", "check", "ingest")[1];

        assertThat(server.get("/api/v1/audit", orgKey).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/audit", null).status()).isEqualTo(401);
        assertThat(server.get("/api/v1/audit?limit=1001", ADMIN).text("/error/field")).isEqualTo("limit");
        assertThat(server.get("/api/v1/audit?after=nonsense", ADMIN).text("/error/field")).isEqualTo("after");
        assertThat(server.get("/api/v1/audit?from=yesterday", ADMIN).text("/error/field")).isEqualTo("from");
    }
}
