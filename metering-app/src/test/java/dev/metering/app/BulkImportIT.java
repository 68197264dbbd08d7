package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.BillingApi;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import dev.metering.events.config.ConfigSource;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code subscriptions import} and {@code credits import} against the real API on the real
 * PostgreSQL, in batches of 2 rows: the summed answer, FILE line numbers, a repeated org across
 * batches, a re-run that changes nothing, and a run resumed after the API died mid-way.
 */
class BulkImportIT {

    private static final String TOKEN = "bulk-import-admin-token-0123";
    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 50 }]
              - id: pro
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 1000 }]
              - id: enterprise
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 10000 }]
            """;
    private static final String FILE = """
            orgId,planId,seats,override.daily

            a,pro,2,1500
            b,free,1,
            c,gold,1,
            a,free,1,
            d,pro,0,
            e,pro,1,
            """;

    private static BillingApi api;
    private static URI url;

    @BeforeAll
    static void start() throws Exception {
        PostgresServer pg = TestInfra.postgres();
        String db = pg.createDatabase("app_bulk_import");
        api = BillingApi.start(BillingApiConfig.from(ConfigSource.of(Map.of("METERING_DB_URL", db,
                "METERING_DB_USER", pg.user(), "METERING_DB_PASSWORD", pg.password(), "METERING_API_PORT", "0",
                "METERING_ADMIN_TOKEN", TOKEN))), Clock.systemUTC());
        url = URI.create("http://127.0.0.1:" + api.port() + "/");
        var put = java.net.http.HttpRequest.newBuilder(url.resolve("api/v1/plans"))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/yaml")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(CATALOG)).build();
        assertThat(java.net.http.HttpClient.newHttpClient().send(put,
                java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static String[] run(BulkImport.Kind kind, String file, boolean dryRun, int[] exit) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        exit[0] = BulkImport.run(kind, url, TOKEN, file, true, 2, dryRun, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(progress, true, StandardCharsets.UTF_8));
        return new String[] {out.toString(StandardCharsets.UTF_8), progress.toString(StandardCharsets.UTF_8)};
    }

    private static JsonNode json(String out) {
        try {
            return new ObjectMapper().readTree(out.replace("dry run: nothing written\n", ""));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void shouldImportInBatchesReportingFileLinesAndChangeNothingOnARerun() {
        int[] exit = new int[1];
        String[] dry = run(BulkImport.SUBSCRIPTIONS, FILE, true, exit);
        assertThat(exit[0]).isEqualTo(1);
        JsonNode answer = json(dry[0]);
        assertThat(answer.get("rows").asInt()).isEqualTo(6);
        assertThat(answer.get("valid").asInt()).isEqualTo(3);
        assertThat(answer.get("created").asInt()).isEqualTo(3);
        assertThat(answer.get("replaced").asInt()).isZero();
        assertThat(answer.get("blockedNow").asInt()).isZero();
        assertThat(answer.at("/byPlan/pro").asInt()).isEqualTo(2);
        assertThat(answer.at("/byPlan/free").asInt()).isEqualTo(1);
        List<String> invalid = new ArrayList<>();
        answer.get("invalid").forEach(p -> invalid.add(p.get("line").asInt() + " " + p.get("field").asText()));
        assertThat(invalid).containsExactly("5 planId", "6 orgId", "7 seats");
        assertThat(answer.at("/invalid/1/message").asText()).isEqualTo("org 'a' is already on line 3");
        assertThat(dry[0]).endsWith("dry run: nothing written\n");
        assertThat(dry[1]).contains("[" + "#".repeat(30) + "] 5/5 rows").endsWith("\n");

        String[] real = run(BulkImport.SUBSCRIPTIONS, FILE, false, exit);
        assertThat(json(real[0]).get("created").asInt()).isEqualTo(3);
        JsonNode again = json(run(BulkImport.SUBSCRIPTIONS, FILE, false, exit)[0]);
        assertThat(again.get("created").asInt()).isZero();
        assertThat(again.get("replaced").asInt()).isZero();
        assertThat(again.get("unchanged").asInt()).isEqualTo(3);
    }

    @Test
    void shouldReportEnterpriseRowsWithoutAnOverrideByFileLineAcrossBatches() {
        String file = "orgId,planId,override.daily\nent-a,enterprise,\nent-b,enterprise,90000\nent-c,pro,\nent-d,enterprise,\n";
        int[] exit = new int[1];

        String[] dry = run(BulkImport.SUBSCRIPTIONS, file, true, exit);

        assertThat(exit[0]).isZero();
        JsonNode answer = json(dry[0]);
        assertThat(answer.get("valid").asInt()).isEqualTo(4);
        assertThat(answer.get("enterpriseWithoutOverride").asInt()).isEqualTo(2);
        assertThat(answer.get("enterpriseWithoutOverrideLines").toString()).isEqualTo("[2,5]");
        assertThat(dry[1]).contains("warning: 2 enterprise row(s) without an override.* value get the plan's default "
                + "limits; lines [2, 5]\n");
    }

    @Test
    void shouldGrantCreditsOnceAcrossBatchesAndReruns() {
        String file = "orgId,amountUsd,reason,expiresAt,grantId\n"
                + "u1,5,launch,,launch-5usd\nu2,5,launch,,launch-5usd\nu3,5,launch,,launch-5usd\nu1,5,launch,,launch-5usd\n";
        int[] exit = new int[1];
        String[] first = run(BulkImport.CREDITS, file, false, exit);
        assertThat(json(first[0]).get("granted").asInt()).isEqualTo(3);
        assertThat(json(first[0]).get("grantedUsd").asText()).isEqualTo("15");
        assertThat(json(first[0]).at("/invalid/0/message").asText())
                .isEqualTo("grant 'launch-5usd' of org 'u1' is already on line 2");
        assertThat(exit[0]).isEqualTo(1);
        String[] second = run(BulkImport.CREDITS, file.substring(0, file.lastIndexOf("u1,")), false, exit);
        assertThat(exit[0]).isZero();
        assertThat(json(second[0]).get("granted").asInt()).isZero();
        assertThat(json(second[0]).get("unchanged").asInt()).isEqualTo(3);
        assertThat(json(second[0]).get("grantedUsd").asText()).isEqualTo("0");
    }

    @Test
    void shouldResumeAnImportThatDiedMidWayWithoutWritingAnyRowTwice() throws Exception {
        StringBuilder file = new StringBuilder("orgId,planId\n");
        for (int i = 0; i < 10; i++) {
            file.append("resume-").append(i).append(",pro\n");
        }
        // the API dies after two batches: the third request gets no answer from it
        int[] forwarded = new int[1];
        com.sun.net.httpserver.HttpServer dying = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        dying.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (forwarded[0]++ < 2) {
                try {
                    var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                                    url.resolve(exchange.getRequestURI().toString().substring(1)))
                            .header("Authorization", exchange.getRequestHeaders().getFirst("Authorization"))
                            .header("Content-Type", exchange.getRequestHeaders().getFirst("Content-Type"))
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofByteArray());
                    exchange.sendResponseHeaders(r.statusCode(), r.body().length);
                    exchange.getResponseBody().write(r.body());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    exchange.sendResponseHeaders(500, -1);
                }
            } else {
                exchange.sendResponseHeaders(502, -1);
            }
            exchange.close();
        });
        dying.start();
        try {
            URI dyingUrl = URI.create("http://127.0.0.1:" + dying.getAddress().getPort() + "/");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> BulkImport.run(BulkImport.SUBSCRIPTIONS, dyingUrl,
                            TOKEN, file.toString(), true, 2, false, new PrintStream(new ByteArrayOutputStream(), true,
                                    StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream(), true,
                                    StandardCharsets.UTF_8)))
                    .isInstanceOf(UserException.class)
                    .hasMessageContaining("the API answered 502")
                    .hasMessageContaining("batches before this one were written; fix and run again: it is idempotent");
        } finally {
            dying.stop(0);
        }
        assertThat(forwarded[0]).isEqualTo(3);

        int[] exit = new int[1];
        JsonNode resumed = json(run(BulkImport.SUBSCRIPTIONS, file.toString(), false, exit)[0]);

        assertThat(exit[0]).isZero();
        assertThat(resumed.get("created").asInt()).isEqualTo(6);
        assertThat(resumed.get("unchanged").asInt()).isEqualTo(4);
        assertThat(resumed.get("replaced").asInt()).isZero();
        var list = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        url.resolve("api/v1/subscriptions?limit=1000")).header("Authorization", "Bearer " + TOKEN).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        List<String> orgs = new ArrayList<>();
        new ObjectMapper().readTree(list.body()).get("items").forEach(i -> {
            if (i.get("orgId").asText().startsWith("resume-")) {
                orgs.add(i.get("orgId").asText() + " " + i.get("planId").asText());
            }
        });
        assertThat(orgs).containsExactly("resume-0 pro", "resume-1 pro", "resume-2 pro", "resume-3 pro", "resume-4 pro",
                "resume-5 pro", "resume-6 pro", "resume-7 pro", "resume-8 pro", "resume-9 pro");
    }
}
