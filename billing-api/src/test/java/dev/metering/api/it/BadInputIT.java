package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.api.it.ApiServer.enc;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import dev.metering.api.plan.ExampleCatalogs;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input gets 400 naming the field; hostile org ids are plain data. */
class BadInputIT {

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_bad_input");
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_000));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static void assertBadRequest(Response r, String field) {
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.text("/error/field")).isEqualTo(field);
        assertThat(r.text("/error/message")).startsWith(field);
    }

    @Test
    void shouldNameTheFieldOfBadCheckParameters() {
        assertBadRequest(server.check("acme", "chat-message", null), "feature");
        assertBadRequest(server.check("acme", "CHAT_MESSAGE", "quantity=-1"), "quantity");
        assertBadRequest(server.check("acme", "CHAT_MESSAGE", "quantity=abc"), "quantity");
        assertBadRequest(server.check("acme", "CHAT_MESSAGE", "tokens=-5"), "tokens");
        assertBadRequest(server.check("acme", "CHAT_MESSAGE", "costUsd=1e3"), "costUsd");
    }

    @Test
    void shouldRefuseMalformedJsonAndUnknownPlans() {
        assertBadRequest(server.putJson("/api/v1/orgs/acme/subscription", ADMIN, "{\"planId\": "), "body");
        assertBadRequest(server.putJson("/api/v1/orgs/acme/subscription", ADMIN, "{\"planId\":\"GOLD\"}"), "planId");
        assertBadRequest(server.putJson("/api/v1/orgs/acme/subscription", ADMIN, "{\"planId\":\"PRO\",\"status\":\"paused\"}"), "status");
        assertBadRequest(server.putJson("/api/v1/orgs/acme/subscription", ADMIN, "{\"planId\":\"PRO\",\"seats\":0}"), "seats");
        assertBadRequest(server.putJson("/api/v1/orgs/acme/subscription", ADMIN,
                "{\"planId\":\"PRO\",\"overrides\":{\"nope\":5}}"), "overrides.nope");
        assertBadRequest(server.putJson("/api/v1/orgs/acme/subscription", ADMIN,
                "{\"planId\":\"PRO\",\"periodStart\":\"yesterday\"}"), "periodStart");
        assertBadRequest(server.post("/api/v1/orgs/acme/credits", ADMIN, "{\"amountUsd\":\"-3\"}"), "amountUsd");
        assertBadRequest(server.post("/api/v1/orgs/acme/credits", ADMIN, "{\"amountUsd\":\"ten\"}"), "amountUsd");
        assertBadRequest(server.post("/api/v1/api-keys", ADMIN, "{\"orgId\":\"acme\",\"scopes\":[\"write\"]}"), "scopes");
    }

    @Test
    void shouldRefuseMalformedYamlAndInvalidCatalogsWithEveryPath() {
        Response malformed = server.put("/api/v1/plans", ADMIN, "application/yaml", "defaultPlan: [free\nplans: :");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.text("/error/code")).isEqualTo("INVALID_CATALOG");
        assertThat(malformed.text("/error/message")).startsWith("$: malformed YAML at line");

        Response invalid = server.put("/api/v1/plans", ADMIN, "application/yaml", """
                defaultPlan: free
                plans:
                  - id: free
                  - id: pro
                  - id: team
                    limits:
                      - { id: w, meter: quantity, window: weekly, max: 5 }
                      - { id: c, meter: cost_usd, window: day, max: "lots" }
                """);
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.text("/error/field")).isEqualTo("plans[2].limits[0].window");
        assertThat(invalid.json().at("/error/problems").size()).isEqualTo(2);
        assertThat(invalid.json().at("/error/problems/1").asText())
                .isEqualTo("plans[2].limits[1].max: 'lots' is not a decimal amount, e.g. \"20.00\"");
        // the catalog in force did not change
        assertThat(server.get("/api/v1/plans", ADMIN).text("/defaultPlan")).isEqualTo("TRIAL");
    }

    @Test
    void shouldRefuseBodiesOverOneMegabyteWith413() {
        Response r = server.put("/api/v1/plans", ADMIN, "application/yaml", "#" + "x".repeat(1_100_000));
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.text("/error/code")).isEqualTo("PAYLOAD_TOO_LARGE");
    }

    @Test
    void shouldAnswerUnknownRoutesWithAJson404() {
        Response r = server.get("/api/v1/nothing-here", ADMIN);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.text("/error/code")).isEqualTo("NOT_FOUND");
    }

    @Test
    void shouldTreatHostileOrgIdsAsPlainData() {
        for (String org : List.of("o'brien", "x\"; DROP TABLE metering.subscriptions; --", "' OR '1'='1",
                "组织-été-🚀", "a b%c")) {
            server.subscribe(org, "{\"planId\":\"TRIAL\"}");
            server.sink.messages(org, "u", Instant.parse("2026-11-22T10:00:00Z"), 200);
            Response check = server.check(org, "CHAT_MESSAGE", null);
            assertThat(check.status()).as(org).isEqualTo(200);
            assertThat(check.text("/orgId")).isEqualTo(org);
            assertThat(check.json().get("allowed").asBoolean()).as(org).isFalse();
            assertThat(check.json().at("/limits/0/used").asLong()).isEqualTo(200);
            Response sub = server.get("/api/v1/orgs/" + enc(org) + "/subscription", ADMIN);
            assertThat(sub.text("/orgId")).isEqualTo(org);
        }
        assertThat(server.db.fetchCount(server.db.selectFrom("metering.subscriptions"))).isEqualTo(5);
        // an org that never appeared is unaffected
        assertThat(server.check("innocent", "CHAT_MESSAGE", null).json().get("allowed").asBoolean()).isTrue();
    }
}
