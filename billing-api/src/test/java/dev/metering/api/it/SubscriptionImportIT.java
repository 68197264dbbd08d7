package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.api.it.ApiServer.T0;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * POST /api/v1/subscriptions/import over real HTTP on the real PostgreSQL: 10,000 CSV rows (more
 * than the API's 1 MiB default body) with 24 bad ones, dry run, the real run, a re-run that changes
 * nothing; blockedNow from the check code over usage rows as the sink writes them; JSON lines.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SubscriptionImportIT {

    private static final String CATALOG = """
            defaultPlan: trial
            plans:
              - id: trial
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 100 }]
              - id: free
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 50 }]
              - id: pro
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 1000 }]
              - id: enterprise
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 2000 }]
            """;
    private static final String HEADER = "orgId,planId,status,periodStart,periodEnd,seats,enforcement,override.daily\n";
    private static final String PERIOD = "2026-11-01T00:00:00Z,2026-12-01T00:00:00Z";
    private static final Duration IMPORT_TIMEOUT = Duration.ofMinutes(2);

    private ApiServer server;
    private String csv;

    @BeforeAll
    void start() {
        server = ApiServer.start("billing_subscription_import");
        server.applyCatalog(CATALOG);
        // org 1 already has exactly its row; org 2 is on another plan (replaced by the import)
        server.subscribe(org(1), "{\"planId\":\"pro\",\"periodStart\":\"2026-11-01T00:00:00Z\","
                + "\"periodEnd\":\"2026-12-01T00:00:00Z\",\"seats\":3}");
        server.subscribe(org(2), "{\"planId\":\"free\",\"periodStart\":\"2026-11-01T00:00:00Z\","
                + "\"periodEnd\":\"2026-12-01T00:00:00Z\"}");
        // today: org 2 is over free's 50 (blocked before, not after: enterprise); orgs 3 and 6 are
        // under the default plan's 100 but over free's 50 (blocked only after)
        server.sink.messages(org(2), "", T0.minusSeconds(3600), 70);
        server.sink.messages(org(3), "", T0.minusSeconds(3600), 60);
        server.sink.messages(org(6), "", T0.minusSeconds(3600), 55);
        csv = tenThousandRows();
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private static String org(int i) {
        return String.format("org-%05d-", i) + "x".repeat(40);
    }

    /** Row i is on line i + 2; 24 rows are bad in six ways. */
    private static String tenThousandRows() {
        StringBuilder b = new StringBuilder(HEADER);
        for (int i = 0; i < 10_000; i++) {
            String plan = List.of("free", "pro", "enterprise").get(i % 3);
            String org = i == 502 ? org(0) : org(i);
            String status = i == 500 ? "paused" : "active";
            String period = i == 501 ? "2026-11-01,2026-10-01" : PERIOD;
            String seats = i % 1000 == 13 ? "0" : "3";
            String override = i == 503 ? "1.5" : plan.equals("enterprise") ? "5000" : "";
            b.append(org).append(',').append(i % 1000 == 7 ? "platinum" : plan).append(',').append(status).append(',')
                    .append(period).append(',').append(seats).append(',').append(i % 10 == 5 ? "shadow" : "")
                    .append(',').append(override).append('\n');
        }
        return b.toString();
    }

    private Response importCsv(String query, String body) {
        return server.post("/api/v1/subscriptions/import" + query, ADMIN, "text/csv", body, IMPORT_TIMEOUT);
    }

    private long subscriptions() {
        return server.db.fetchOne("SELECT count(*) FROM metering.subscriptions").get(0, Long.class);
    }

    private long newestRevision() {
        return server.db.fetchOne("SELECT max(revision) FROM metering.subscriptions").get(0, Long.class);
    }

    private static void assertAnswer(Response r, int created, int replaced, int unchanged) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode j = r.json();
        assertThat(j.get("rows").asInt()).isEqualTo(10_000);
        assertThat(j.get("valid").asInt()).isEqualTo(9_976);
        assertThat(j.get("invalid")).hasSize(24);
        List<String> first = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            JsonNode p = j.get("invalid").get(k);
            first.add(p.get("line").asInt() + " " + p.get("field").asText());
        }
        assertThat(first).containsExactly("9 planId", "15 seats", "502 status", "503 periodEnd", "504 orgId",
                "505 override.daily");
        assertThat(j.get("invalid").get(4).get("message").asText()).isEqualTo("org '" + org(0) + "' is already on line 2");
        Map<String, Integer> fields = new TreeMap<>();
        j.get("invalid").forEach(p -> fields.merge(p.get("field").asText(), 1, Integer::sum));
        assertThat(fields).containsExactlyEntriesOf(new TreeMap<>(Map.of("planId", 10, "seats", 10, "status", 1,
                "periodEnd", 1, "orgId", 1, "override.daily", 1)));
        assertThat(j.get("byPlan").toString()).isEqualTo("{\"enterprise\":3325,\"free\":3327,\"pro\":3324}");
        assertThat(j.get("created").asInt()).isEqualTo(created);
        assertThat(j.get("replaced").asInt()).isEqualTo(replaced);
        assertThat(j.get("unchanged").asInt()).isEqualTo(unchanged);
    }

    @Test
    @Order(1)
    void shouldDryRunTenThousandRowsReportingBadRowsAndChangeNothing() {
        assertThat(csv.length()).isGreaterThan(1_048_576);
        long revision = newestRevision();

        Response r = importCsv("?dryRun=true", csv);

        assertAnswer(r, 9_974, 1, 1);
        assertThat(r.json().get("blockedNow").asInt()).isEqualTo(2);
        assertThat(r.json().get("blockedNowBefore").asInt()).isEqualTo(1);
        assertThat(subscriptions()).isEqualTo(2);
        assertThat(newestRevision()).isEqualTo(revision);
        assertThat(server.check(org(3), "CHAT_MESSAGE", null).json().get("allowed").asBoolean()).isTrue();
    }

    @Test
    @Order(2)
    void shouldImportTheValidRowsAtOnceAndChangeNothingOnARerun() {
        Response r = importCsv("?dryRun=false", csv);

        assertAnswer(r, 9_974, 1, 1);
        assertThat(r.json().get("blockedNow").asInt()).isEqualTo(2);
        assertThat(subscriptions()).isEqualTo(9_976);
        JsonNode replaced = server.get("/api/v1/orgs/" + org(2) + "/subscription", ADMIN).json();
        assertThat(replaced.get("planId").asText()).isEqualTo("enterprise");
        assertThat(replaced.get("seats").asInt()).isEqualTo(3);
        assertThat(replaced.at("/overrides/daily").asLong()).isEqualTo(5000);
        JsonNode shadowed = server.get("/api/v1/orgs/" + org(5) + "/subscription", ADMIN).json();
        assertThat(shadowed.get("enforcement").asText()).isEqualTo("shadow");
        assertThat(shadowed.get("periodStart").asText()).isEqualTo("2026-11-01T00:00:00Z");
        Response check = server.check(org(3), "CHAT_MESSAGE", null);
        assertThat(check.json().get("allowed").asBoolean()).isFalse();
        assertThat(check.json().get("code").asText()).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
        long revision = newestRevision();

        Response again = importCsv("", csv);

        assertAnswer(again, 0, 0, 9_976);
        assertThat(again.json().get("blockedNow").asInt()).isEqualTo(2);
        assertThat(again.json().get("blockedNowBefore").asInt()).isEqualTo(2);
        assertThat(newestRevision()).isEqualTo(revision);
    }

    @Test
    @Order(3)
    void shouldImportJsonLinesNamingEachBadLinesField() {
        String body = "{\"orgId\":\"jl-1\",\"planId\":\"pro\",\"seats\":2,\"overrides\":{\"daily\":1500}}\n"
                + "{\"orgId\":\"jl-2\",\"planId\":\"pro\",\"seats\":\"many\"}\n"
                + "\n"
                + "{\"orgId\":\n";
        Response r = server.post("/api/v1/subscriptions/import?dryRun=false", ADMIN, "application/x-ndjson", body,
                IMPORT_TIMEOUT);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("rows").asInt()).isEqualTo(3);
        assertThat(r.json().get("valid").asInt()).isEqualTo(1);
        assertThat(r.json().get("invalid").toString()).startsWith("[{\"line\":2,\"field\":\"seats\",")
                .contains("{\"line\":4,\"field\":\"row\",\"message\":\"malformed JSON");
        assertThat(r.json().get("byPlan").toString()).isEqualTo("{\"pro\":1}");
        assertThat(r.json().get("created").asInt()).isEqualTo(1);
        JsonNode s = server.get("/api/v1/orgs/jl-1/subscription", ADMIN).json();
        assertThat(s.get("seats").asInt()).isEqualTo(2);
        assertThat(s.at("/overrides/daily").asLong()).isEqualTo(1500);
        assertThat(s.get("periodStart").asText()).isEqualTo("2026-11-22T00:00:00Z");
        assertThat(s.get("periodEnd").asText()).isEqualTo("2026-12-22T00:00:00Z");
    }

    @Test
    @Order(4)
    void shouldRefuseABadRequestAsAWholeNamingTheField() {
        Response unknownColumn = importCsv("?dryRun=true", "orgId,plan\na,free\n");
        assertThat(unknownColumn.status()).isEqualTo(400);
        assertThat(unknownColumn.text("/error/field")).isEqualTo("plan");
        Response noPlan = importCsv("?dryRun=true", "orgId,seats\na,1\n");
        assertThat(noPlan.status()).isEqualTo(400);
        assertThat(noPlan.text("/error/field")).isEqualTo("planId");
        Response dryRun = importCsv("?dryRun=maybe", HEADER);
        assertThat(dryRun.status()).isEqualTo(400);
        assertThat(dryRun.text("/error/field")).isEqualTo("dryRun");
        Response type = server.post("/api/v1/subscriptions/import", ADMIN, "text/plain", "orgId,planId\n", IMPORT_TIMEOUT);
        assertThat(type.status()).isEqualTo(415);
        String orgKey = server.createKey("jl-1", "read")[1];
        assertThat(server.post("/api/v1/subscriptions/import", orgKey, "text/csv", HEADER, IMPORT_TIMEOUT).status())
                .isEqualTo(403);
    }
}
