package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import dev.metering.api.plan.ExampleCatalogs;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Liveness, readiness, Prometheus metrics, catalog reads. */
class OpsIT {

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_ops");
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_000));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void shouldReportHealthAndReadinessWithoutAKey() {
        assertThat(server.get("/health", null).status()).isEqualTo(200);
        Response ready = server.get("/ready", null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.text("/database")).isEqualTo("up");
        assertThat(ready.text("/usageAsOf")).isEqualTo("2026-11-22T18:30:00Z");
        assertThat(ready.json().get("stale").asBoolean()).isFalse();
    }

    @Test
    void shouldExposeRequestAndCheckOutcomeMetrics() {
        server.sink.messages("metrics-org", "u", Instant.parse("2026-11-22T10:00:00Z"), 200);
        server.check("metrics-org", "CHAT_MESSAGE", null);
        server.check("metrics-ok", "CHAT_MESSAGE", null);
        Response m = server.get("/metrics", null);
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.body())
                .contains("metering_checks_total{code=\"DAILY_MESSAGE_LIMIT_EXCEEDED\",mode=\"enforce\",outcome=\"blocked\"} 1")
                .contains("metering_checks_total{code=\"\",mode=\"enforce\",outcome=\"allowed\"}")
                .contains("metering_api_requests_total{method=\"GET\",route=\"/api/v1/usage/{orgId}/check/{feature}\",status=\"200\"}")
                .contains("metering_api_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/usage/{orgId}/check/{feature}\",le=\"0.005\"}")
                .contains("metering_orgs_near_limit 1");
    }

    @Test
    void shouldServeTheCatalogAsJsonAndAsSubmitted() {
        Response json = server.get("/api/v1/plans", ADMIN);
        assertThat(json.json().get("version").asLong()).isPositive();
        assertThat(json.text("/plans/0/id")).isEqualTo("TRIAL");
        assertThat(json.json().at("/plans/0/limits/0/max").asLong()).isEqualTo(200);
        Response yaml = server.get("/api/v1/plans", ADMIN, "application/yaml");
        assertThat(yaml.body()).isEqualTo(ExampleCatalogs.text(ExampleCatalogs.SEED_000));
    }

    @Test
    void shouldStoreCatalogsRelationallyForSqlReports() {
        assertThat(server.db.fetchValue("select count(*) from metering.plan_limits where catalog_version = "
                + "(select max(version) from metering.plan_catalogs)")).isEqualTo(10L);
    }

    @Test
    void shouldRefuseToDropAPlanThatSubscriptionsUse() {
        server.subscribe("pro-org", "{\"planId\":\"PRO\"}");
        Response r = server.put("/api/v1/plans", ADMIN, "application/yaml", "defaultPlan: TRIAL\nplans: [{ id: TRIAL }]");
        assertThat(r.status()).isEqualTo(409);
        assertThat(r.text("/error/message")).contains("PRO (1 orgs)");
    }
}
