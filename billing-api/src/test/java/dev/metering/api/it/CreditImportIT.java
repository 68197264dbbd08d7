package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** POST /api/v1/credits/import over real HTTP on the real PostgreSQL: seed 004's "$5 for every existing user". */
class CreditImportIT {

    private static final String CSV = """
            orgId,amountUsd,reason,expiresAt,grantId
            u1,5.00,launch credit,,launch-5usd
            u2,5,launch credit,2027-01-01T00:00:00Z,launch-5usd
            u3,0,launch credit,,launch-5usd
            u4,5.00,,2026-11-01T00:00:00Z,launch-5usd
            u5,5.00,,,
            u1,5.00,,,launch-5usd
            """;

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_credit_import");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Response importCredits(String query, String contentType, String body) {
        return server.post("/api/v1/credits/import" + query, ADMIN, contentType, body, Duration.ofSeconds(30));
    }

    private static String balance(String org) {
        return server.get("/api/v1/orgs/" + org + "/balance", ADMIN).text("/balanceUsd");
    }

    @Test
    void shouldGrantEachOrgOnceUnderItsGrantIdWhateverTheReruns() {
        Response dry = importCredits("?dryRun=true", "text/csv", CSV);
        assertThat(dry.status()).as(dry.body()).isEqualTo(200);
        assertThat(dry.json().get("rows").asInt()).isEqualTo(6);
        assertThat(dry.json().get("valid").asInt()).isEqualTo(2);
        assertThat(dry.json().get("invalid").toString()).isEqualTo("["
                + "{\"line\":4,\"field\":\"amountUsd\",\"message\":\"'0' is not a positive decimal amount below 1e15 with "
                + "at most 9 decimals, e.g. 5.00\"},"
                + "{\"line\":5,\"field\":\"expiresAt\",\"message\":\"must be in the future\"},"
                + "{\"line\":6,\"field\":\"grantId\",\"message\":\"required: it makes a re-run grant nothing twice\"},"
                + "{\"line\":7,\"field\":\"grantId\",\"message\":\"grant 'launch-5usd' of org 'u1' is already on line 2\"}]");
        assertThat(dry.json().get("granted").asInt()).isEqualTo(2);
        assertThat(dry.json().get("grantedUsd").asText()).isEqualTo("10");
        assertThat(balance("u1")).isEqualTo("0");

        Response real = importCredits("", "text/csv", CSV);
        assertThat(real.json().get("granted").asInt()).isEqualTo(2);
        assertThat(real.json().get("unchanged").asInt()).isEqualTo(0);
        assertThat(balance("u1")).isEqualTo("5");
        assertThat(balance("u2")).isEqualTo("5");

        Response again = importCredits("?dryRun=false", "text/csv", CSV);
        assertThat(again.json().get("granted").asInt()).isEqualTo(0);
        assertThat(again.json().get("unchanged").asInt()).isEqualTo(2);
        assertThat(again.json().get("grantedUsd").asText()).isEqualTo("0");
        assertThat(balance("u1")).isEqualTo("5");

        Response changed = importCredits("", "text/csv", "orgId,amountUsd,grantId\nu2,7,launch-5usd\n");
        assertThat(changed.json().get("granted").asInt()).isEqualTo(0);
        assertThat(changed.json().at("/invalid/0/field").asText()).isEqualTo("amountUsd");
        assertThat(changed.json().at("/invalid/0/message").asText())
                .isEqualTo("grant 'launch-5usd' was already made with amountUsd 5; a grant is never changed");
        assertThat(balance("u2")).isEqualTo("5");
    }

    @Test
    void shouldGrantFromJsonLinesAndRefuseABadHeaderNamingTheColumn() {
        Response r = importCredits("", "application/x-ndjson",
                "{\"orgId\":\"j1\",\"amountUsd\":\"2.50\",\"grantId\":\"g-1\",\"reason\":\"sorry for the outage\"}\n");
        assertThat(r.json().get("granted").asInt()).isEqualTo(1);
        assertThat(balance("j1")).isEqualTo("2.5");

        Response header = importCredits("?dryRun=true", "text/csv", "orgId,amount,grantId\nx,1,g\n");
        assertThat(header.status()).isEqualTo(400);
        assertThat(header.text("/error/field")).isEqualTo("amount");
        Response missing = importCredits("?dryRun=true", "text/csv", "orgId,amountUsd\nx,1\n");
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.text("/error/field")).isEqualTo("grantId");
    }
}
