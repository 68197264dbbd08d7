package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.it.ApiServer.Response;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Usage reports (JSON and CSV) and the admin top-orgs report over real HTTP and PostgreSQL. */
class ReportIT {

    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - { id: messages-per-day, feature: CHAT_MESSAGE, meter: quantity, window: day, scope: org, max: 20 }
                  - { id: cost-warning, meter: cost_usd, window: day, scope: org, max: "0.01", enforcement: soft }
              - id: pro
                limits:
                  - { id: messages-per-day, feature: CHAT_MESSAGE, meter: quantity, window: day, scope: org, max: 500 }
            """;

    private static ApiServer server;
    private static String repReadKey;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_reports");
        server.applyCatalog(CATALOG);
        repReadKey = server.createKey("rep", "read")[1];
        server.sink
                .usage("rep", "u1", "CHAT_MESSAGE", Instant.parse("2026-11-01T10:15:00Z"), 3, 3, 0, 0, "0")
                .usage("rep", "u2", "AI_COMPLETION", Instant.parse("2026-11-01T10:40:00Z"), 2, 2, 1000, 200, "0.012500001")
                .usage("rep", "u1", "AI_COMPLETION", Instant.parse("2026-11-01T11:05:00Z"), 1, 1, 500, 100, "0.006")
                .usage("rep", "u1", "CHAT_MESSAGE", Instant.parse("2026-11-02T09:00:00Z"), 4, 4, 0, 0, "0")
                .usage("rep", "u1", "CHAT_MESSAGE", Instant.parse("2026-10-31T23:59:00Z"), 1, 1, 0, 0, "0")
                .usage("other", "u1", "CHAT_MESSAGE", Instant.parse("2026-11-01T10:15:00Z"), 50, 50, 0, 0, "0");
        // top orgs: big-co (pro), alice/bob/carol on the default free plan
        server.subscribe("big-co", "{\"planId\":\"pro\"}");
        server.sink
                .usage("big-co", "", "AI_COMPLETION", Instant.parse("2026-11-21T08:00:00Z"), 40, 40, 900000, 100000, "5.5")
                .usage("big-co", "", "CHAT_MESSAGE", Instant.parse("2026-11-22T08:00:00Z"), 100, 100, 0, 0, "0")
                .usage("alice", "", "CHAT_MESSAGE", Instant.parse("2026-11-22T09:00:00Z"), 19, 19, 0, 0, "0.038")
                .usage("bob", "", "CHAT_MESSAGE", Instant.parse("2026-11-22T10:00:00Z"), 10, 10, 0, 0, "0.02")
                .usage("carol", "", "CHAT_MESSAGE", Instant.parse("2026-11-21T10:00:00Z"), 18, 18, 0, 0, "0.036");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static List<String> jsonRows(Response r, String... columns) {
        List<String> out = new ArrayList<>();
        for (JsonNode row : r.json().get("rows")) {
            List<String> cells = new ArrayList<>();
            for (String c : columns) {
                cells.add(row.get(c).asText());
            }
            out.add(String.join(",", cells));
        }
        return out;
    }

    @Test
    void shouldGiveTheSameNumbersAsJsonAndCsvPerHourAndFeature() {
        String path = "/api/v1/usage/rep/report?from=2026-11-01T00:00:00Z&to=2026-11-03&granularity=hour&groupBy=feature";
        Response json = server.get(path, repReadKey);
        Response csv = server.get(path, repReadKey, "text/csv");

        assertThat(json.status()).isEqualTo(200);
        List<String> fromJson = jsonRows(json, "period", "feature", "events", "quantity", "inputTokens", "outputTokens",
                "cachedInputTokens", "tokens", "unpricedEvents", "costUsd");
        assertThat(fromJson).containsExactly(
                "2026-11-01T10:00:00Z,AI_COMPLETION,2,2,1000,200,0,1200,0,0.012500001",
                "2026-11-01T10:00:00Z,CHAT_MESSAGE,3,3,0,0,0,0,0,0",
                "2026-11-01T11:00:00Z,AI_COMPLETION,1,1,500,100,0,600,0,0.006",
                "2026-11-02T09:00:00Z,CHAT_MESSAGE,4,4,0,0,0,0,0,0");
        assertThat(json.json().get("totals").toString()).isEqualTo("{\"events\":10,\"quantity\":10,\"inputTokens\":1500,"
                + "\"outputTokens\":300,\"cachedInputTokens\":0,\"cacheWriteTokens\":0,\"reasoningTokens\":0,\"tokens\":1800,\"unpricedEvents\":0,\"costUsd\":\"0.018500001\"}");

        assertThat(csv.status()).isEqualTo(200);
        assertThat(csv.raw().headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
        List<String> lines = csv.body().lines().toList();
        assertThat(lines.get(0)).isEqualTo("period,feature,events,quantity,input_tokens,output_tokens,"
                + "cached_input_tokens,tokens,unpriced_events,cost_usd");
        assertThat(lines.subList(1, lines.size())).containsExactlyElementsOf(fromJson);
    }

    @Test
    void shouldReportPerDayAndUserAndPerCalendarMonth() {
        Response days = server.get("/api/v1/usage/rep/report?from=2026-11-01&to=2026-11-03&granularity=day&groupBy=user",
                repReadKey);
        assertThat(jsonRows(days, "period", "userId", "events", "tokens", "costUsd")).containsExactly(
                "2026-11-01T00:00:00Z,u1,4,600,0.006",
                "2026-11-01T00:00:00Z,u2,2,1200,0.012500001",
                "2026-11-02T00:00:00Z,u1,4,0,0");

        Response months = server.get("/api/v1/usage/rep/report?from=2026-10-01&to=2026-12-01&granularity=month", ADMIN);
        assertThat(jsonRows(months, "period", "events", "quantity", "costUsd")).containsExactly(
                "2026-10-01T00:00:00Z,1,1,0",
                "2026-11-01T00:00:00Z,10,10,0.018500001");

        Response csv = server.get("/api/v1/usage/rep/report?from=2026-11-01&to=2026-12-01&granularity=month&groupBy=model,feature",
                ADMIN, "text/csv");
        assertThat(csv.body()).isEqualTo("period,feature,provider,model,events,quantity,input_tokens,output_tokens,"
                + "cached_input_tokens,tokens,unpriced_events,cost_usd\n"
                + "2026-11-01T00:00:00Z,AI_COMPLETION,,,3,3,1500,300,0,1800,0,0.018500001\n"
                + "2026-11-01T00:00:00Z,CHAT_MESSAGE,,,7,7,0,0,0,0,0,0\n");
    }

    @Test
    void shouldRefuseRangesBeyondTheLimitNamingTheField() {
        Response hour = server.get("/api/v1/usage/rep/report?from=2026-10-01&to=2026-11-02&granularity=hour", ADMIN);
        assertThat(hour.status()).isEqualTo(400);
        assertThat(hour.text("/error/field")).isEqualTo("to");
        assertThat(hour.text("/error/message")).isEqualTo("to: hour granularity covers at most 31 days; got 768 hours "
                + "(use granularity=day)");
        assertThat(server.get("/api/v1/usage/rep/report?from=2025-01-01&to=2026-01-03&granularity=day", ADMIN)
                .text("/error/field")).isEqualTo("to");
        assertThat(server.get("/api/v1/usage/rep/report?from=2023-01-01&to=2026-02-01&granularity=month", ADMIN)
                .text("/error/message")).isEqualTo("to: month granularity covers at most 36 months; got 37");
        Response misaligned = server.get("/api/v1/usage/rep/report?from=2026-11-01T10:30:00Z&to=2026-11-02&granularity=hour",
                ADMIN);
        assertThat(misaligned.status()).isEqualTo(400);
        assertThat(misaligned.text("/error/field")).isEqualTo("from");
        assertThat(server.get("/api/v1/usage/rep/report?from=2026-11-01&to=2026-11-02&groupBy=colour", ADMIN)
                .text("/error/field")).isEqualTo("groupBy");
        assertThat(server.get("/api/v1/usage/rep/report?to=2026-11-02", ADMIN).text("/error/field")).isEqualTo("from");
        assertThat(server.get("/api/v1/usage/rep/report?from=2026-11-01&to=2026-11-02&granularity=week", ADMIN)
                .text("/error/field")).isEqualTo("granularity");
    }

    @Test
    void shouldShowAnOrgKeyOnlyItsOwnReport() {
        String path = "/api/v1/usage/other/report?from=2026-11-01&to=2026-11-02";
        assertThat(server.get(path, repReadKey).status()).isEqualTo(403);
        assertThat(server.get(path, null).status()).isEqualTo(401);
        String checkOnly = server.createKey("rep", "check")[1];
        assertThat(server.get("/api/v1/usage/rep/report?from=2026-11-01&to=2026-11-02", checkOnly).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/reports/top-orgs?from=2026-11-01&to=2026-12-01", repReadKey).status()).isEqualTo(403);
    }

    @Test
    void shouldRankTopOrgsByCostTokensOrEvents() {
        Response cost = server.get("/api/v1/reports/top-orgs?from=2026-11-01&to=2026-12-01&by=cost&limit=3", ADMIN);
        assertThat(cost.status()).isEqualTo(200);
        List<String> rows = new ArrayList<>();
        cost.json().get("orgs").forEach(o -> rows.add(o.get("orgId").asText() + " " + o.get("plan").asText() + " "
                + o.get("costUsd").asText() + " " + o.get("events").asText() + " " + o.get("tokens").asText()));
        assertThat(rows).containsExactly("big-co pro 5.5 140 1000000", "alice free 0.038 19 0", "carol free 0.036 18 0");

        Response events = server.get("/api/v1/reports/top-orgs?from=2026-11-22&to=2026-11-23&by=events", ADMIN);
        List<String> byEvents = new ArrayList<>();
        events.json().get("orgs").forEach(o -> byEvents.add(o.get("orgId").asText() + " " + o.get("events").asText()));
        assertThat(byEvents).containsExactly("big-co 100", "alice 19", "bob 10");
    }

    @Test
    void shouldFindFreeOrgsNearTheirLimit() {
        Response r = server.get("/api/v1/reports/top-orgs?from=2026-11-22&to=2026-11-23&by=events&plan=free&nearLimit=0.9",
                ADMIN);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("orgs")).hasSize(1);
        assertThat(r.json().get("orgs").get(0).toString()).isEqualTo("{\"orgId\":\"alice\",\"plan\":\"free\",\"events\":19,"
                + "\"quantity\":19,\"tokens\":0,\"costUsd\":\"0.038\",\"nearestLimit\":{\"id\":\"messages-per-day\","
                + "\"window\":\"day\",\"used\":\"19\",\"limit\":\"20\",\"resetsAt\":\"2026-11-23T00:00:00Z\",\"ratio\":\"0.95\"}}");
        Response bad = server.get("/api/v1/reports/top-orgs?from=2026-11-22&to=2026-11-23&nearLimit=2", ADMIN);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.text("/error/field")).isEqualTo("nearLimit");
        assertThat(server.get("/api/v1/reports/top-orgs?from=2026-11-22&to=2026-11-23&by=money", ADMIN)
                .text("/error/field")).isEqualTo("by");
    }
}
