package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import dev.metering.devstack.TestInfra;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** When PostgreSQL is gone, requests that need it answer 503 UNAVAILABLE and /ready says not ready. */
class DatabaseOutageIT {

    @Test
    void shouldAnswer503WhenTheDatabaseIsUnavailable() throws Exception {
        try (ApiServer server = ApiServer.start("billing_outage")) {
            server.applyCatalog("defaultPlan: free\nplans: [{ id: free }]\n");
            assertThat(server.check("acme", "CHAT_MESSAGE", null).status()).isEqualTo(200);

            try (Connection c = TestInfra.postgres().connect("postgres"); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE billing_outage WITH (FORCE)");
            }

            Response check = server.check("never-seen-org", "CHAT_MESSAGE", null);
            assertThat(check.status()).isEqualTo(503);
            assertThat(check.text("/error/code")).isEqualTo("UNAVAILABLE");
            assertThat(server.get("/ready", null).status()).isEqualTo(503);
            assertThat(server.get("/health", null).status()).isEqualTo(200);
            assertThat(server.post("/api/v1/orgs/acme/credits", ADMIN, "{\"amountUsd\":\"1\"}").status()).isEqualTo(503);
        }
    }
}
