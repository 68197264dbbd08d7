package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.api.plan.ExampleCatalogs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The probes of a hostile client: chunked bodies past the limit, numbers and dates out of range,
 * NUL characters, URIs Jetty refuses itself; every answer a 4xx in the contract's JSON.
 */
class HostileInputIT {

    private static final int MIB = 1_048_576;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP11 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_hostile_input");
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_000));
        server.subscribe("acme", "{\"planId\":\"PRO\"}");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    // ---- 1. bodies bounded by the bytes read

    @Test
    void shouldRefuseChunkedBodiesPastOneMebibyteOnEveryEndpointWith413() throws Exception {
        String[][] endpoints = {
                {"POST", "/api/v1/events", "application/json"},
                {"PUT", "/api/v1/plans", "application/yaml"},
                {"PUT", "/api/v1/prices", "text/csv"},
                {"POST", "/api/v1/orgs/acme/credits", "application/json"},
                {"PUT", "/api/v1/orgs/acme/subscription", "application/json"},
                {"POST", "/api/v1/usage/acme/reservations", "application/json"},
        };
        for (String[] e : endpoints) {
            Response r = chunked(e[0], e[1], e[2], padded("{}", MIB + 1024));
            assertThat(r.status()).as(e[1] + ": " + r.body()).isEqualTo(413);
            assertThat(r.text("/error/code")).as(e[1]).isEqualTo("PAYLOAD_TOO_LARGE");
        }
    }

    @Test
    void shouldAcceptAChunkedBodyOfExactlyTheLimit() throws Exception {
        Response r = chunked("POST", "/api/v1/orgs/acme/credits", "application/json",
                padded("{\"amountUsd\":\"5\",\"reason\":\"chunked\"}", MIB));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.text("/amountUsd")).isEqualTo("5");
    }

    @Test
    void shouldKeepTheLargerImportLimitForChunkedImports() throws Exception {
        Response under = chunked("POST", "/api/v1/credits/import?dryRun=true", "text/csv",
                padded("orgId,amountUsd,reason,expiresAt,grantId\nacme,1,r,,g1\n", 2 * MIB, '\n'));
        assertThat(under.status()).as(under.body()).isEqualTo(200);
        Response over = chunked("POST", "/api/v1/credits/import?dryRun=true", "text/csv",
                padded("orgId,amountUsd,reason,expiresAt,grantId\n", 32 * MIB + 1, '\n'));
        assertThat(over.status()).isEqualTo(413);
        assertThat(over.text("/error/code")).isEqualTo("PAYLOAD_TOO_LARGE");
    }

    // ---- 2. numbers out of range, before any arithmetic

    @Test
    void shouldRefuseOutOfRangeDecimalsNamingTheField() {
        for (String amount : new String[] {"1e2147483647", "1e100000", "-1e-2147483647",
                "0." + "1".repeat(60), "1" + "0".repeat(40)}) {
            assertBadRequest(server.post("/api/v1/orgs/acme/credits", ADMIN, "{\"amountUsd\":" + amount + "}"),
                    "amountUsd");
            assertBadRequest(server.putJson("/api/v1/orgs/acme/subscription", ADMIN,
                    "{\"planId\":\"PRO\",\"overrides\":{\"daily-messages\":" + amount + "}}"), "overrides.daily-messages");
            assertBadRequest(server.post("/api/v1/usage/acme/reservations", ADMIN,
                    "{\"requestId\":\"r1\",\"feature\":\"CHAT_MESSAGE\",\"costUsd\":" + amount + "}"), "costUsd");
        }
        assertBadRequest(server.get("/api/v1/reports/top-orgs?from=2026-11-01&to=2026-11-02&nearLimit=1e-100000",
                ADMIN), "nearLimit");
        assertBadRequest(server.check("acme", "CHAT_MESSAGE", "costUsd=0." + "0".repeat(100) + "1"), "costUsd");
        assertBadRequest(server.check("acme", "CHAT_MESSAGE", "quantity=" + "9".repeat(30)), "quantity");
    }

    @Test
    void shouldRefuseOutOfRangeNumbersInCatalogsAndPriceBooks() {
        Response plans = server.put("/api/v1/plans", ADMIN, "application/json", """
                {"defaultPlan":"free","plans":[{"id":"free","priceUsd":1e2147483647,
                 "limits":[{"id":"m","meter":"cost_usd","window":"day","max":1e100000}]}]}""");
        assertThat(plans.status()).as(plans.body()).isEqualTo(400);
        assertThat(plans.text("/error/code")).isEqualTo("INVALID_CATALOG");
        assertThat(plans.json().at("/error/problems").toString())
                .contains("plans[0].priceUsd: is out of range").contains("plans[0].limits[0].max: is out of range");

        Response prices = server.putJson("/api/v1/prices", ADMIN, """
                {"prices":[{"provider":"openai","model":"m","effectiveFrom":"2026-01-01",
                 "inputPer1mUsd":1e2147483647,"cachedInputPer1mUsd":"0","outputPer1mUsd":"1"}]}""");
        assertThat(prices.status()).as(prices.body()).isEqualTo(400);
        assertThat(prices.text("/error/code")).isEqualTo("INVALID_PRICES");
        assertThat(prices.text("/error/field")).endsWith("inputPer1mUsd");
    }

    // ---- 3. data errors are the client's: 400 naming the field, never 5xx

    @Test
    void shouldRefuseDatesOutOfRangeNamingTheField() {
        for (String date : new String[] {"\"+300000-01-01T00:00:00Z\"", "\"-5000-01-01T00:00:00Z\"",
                "\"+1000000000-01-01T00:00:00Z\"", "1e30", "1000000000000000000000000000000", "9223372036854775807"}) {
            assertBadRequest(server.post("/api/v1/orgs/acme/credits", ADMIN,
                    "{\"amountUsd\":\"1\",\"expiresAt\":" + date + "}"), "expiresAt");
            assertBadRequest(server.putJson("/api/v1/orgs/acme/subscription", ADMIN,
                    "{\"planId\":\"PRO\",\"periodStart\":" + date + "}"), "periodStart");
        }
        String read = server.createKey("acme", "read")[1];
        assertBadRequest(server.get("/api/v1/usage/acme/report?from=%2B300000-01-01T00:00:00Z&to=%2B300000-01-02T00:00:00Z",
                read), "from");
        assertBadRequest(server.get("/api/v1/usage/acme/report?from=2026-11-01&to=%2B300000-01-02T00:00:00Z",
                read), "to");
    }

    @Test
    void shouldRefuseNulCharactersNamingTheField() {
        assertBadRequest(server.post("/api/v1/orgs/acme/credits", ADMIN,
                "{\"amountUsd\":\"1\",\"reason\":\"a\\u0000b\"}"), "reason");
        Response imported = server.post("/api/v1/subscriptions/import?dryRun=true", ADMIN, "application/x-ndjson",
                "{\"orgId\":\"a\\u0000b\",\"planId\":\"PRO\"}\n", Duration.ofSeconds(10));
        assertThat(imported.status()).as(imported.body()).isEqualTo(200);
        assertThat(imported.text("/invalid/0/field")).isEqualTo("orgId");
        Response catalog = server.put("/api/v1/plans", ADMIN, "application/json",
                "{\"defaultPlan\":\"free\",\"plans\":[{\"id\":\"free\",\"name\":\"Free\\u0000plan\"}]}");
        assertThat(catalog.status()).as(catalog.body()).isEqualTo(400);
        assertThat(catalog.text("/error/field")).isEqualTo("plans[0].name");
        assertThat(server.db.fetchCount(server.db.selectFrom("metering.credit_grants")
                .where("reason LIKE 'a%'"))).isZero();
    }

    // ---- 5. every error in the contract's JSON; authentication first

    @Test
    void shouldAnswerJettyLevelRefusalsInTheContractJson() throws IOException {
        RawResponse nul = raw("GET /api/v1/usage/acme%00/limits HTTP/1.1\r\nHost: x\r\n"
                + "Authorization: Bearer " + ADMIN + "\r\nConnection: close\r\n\r\n");
        assertThat(nul.status()).isEqualTo(400);
        assertThat(nul.json().at("/error/code").asText()).isEqualTo("INVALID_REQUEST");

        RawResponse longUri = raw("GET /api/v1/usage/" + "a".repeat(20_000) + "/limits HTTP/1.1\r\nHost: x\r\n"
                + "Connection: close\r\n\r\n");
        assertThat(longUri.status()).isEqualTo(414);
        assertThat(longUri.json().at("/error/code").asText()).isEqualTo("URI_TOO_LONG");

        RawResponse bigHeaders = raw("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000)
                + "\r\nConnection: close\r\n\r\n");
        assertThat(bigHeaders.status()).isEqualTo(431);
        assertThat(bigHeaders.json().at("/error/code").asText()).isEqualTo("HEADERS_TOO_LARGE");

        RawResponse badUri = raw("GET /api/v1/usage/%zz/limits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(badUri.status()).isEqualTo(400);
        assertThat(badUri.json().at("/error/code").asText()).isEqualTo("INVALID_REQUEST");
    }

    @Test
    void shouldRefuseInvalidUtf8InPathAndQueryRatherThanReplaceIt() {
        assertBadRequest(server.get("/api/v1/orgs/%FF%FE/balance", ADMIN), "path");
        assertBadRequest(server.get("/api/v1/usage/acme/limits?userId=%C3%28", ADMIN), "userId");
        assertThat(server.db.fetchCount(server.db.selectFrom("metering.subscriptions")
                .where("org_id LIKE '%\uFFFD%'"))).isZero();
    }

    @Test
    void shouldAuthenticateBeforeValidatingInput() {
        String longOrg = "o".repeat(257);
        Response unauthenticated = server.get("/api/v1/usage/" + longOrg + "/limits", null);
        assertThat(unauthenticated.status()).isEqualTo(401);
        assertThat(unauthenticated.text("/error/code")).isEqualTo("UNAUTHORIZED");
        Response badKey = server.post("/api/v1/orgs/" + longOrg + "/credits", "not-a-key", "{\"amountUsd\":1e100000}");
        assertThat(badKey.status()).isEqualTo(401);
        assertBadRequest(server.get("/api/v1/usage/" + longOrg + "/limits", ADMIN), "orgId");
    }

    // ---- helpers

    private static void assertBadRequest(Response r, String field) {
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.text("/error/code")).as(r.body()).isIn("INVALID_REQUEST");
        assertThat(r.text("/error/field")).as(r.body()).isEqualTo(field);
    }

    /** {@code prefix} then spaces (JSON whitespace) or {@code pad} up to exactly {@code size} bytes. */
    private static byte[] padded(String prefix, int size) {
        return padded(prefix, size, ' ');
    }

    private static byte[] padded(String prefix, int size, char pad) {
        byte[] body = new byte[size];
        Arrays.fill(body, (byte) pad);
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(p, 0, body, 0, p.length);
        return body;
    }

    /** A request whose body has no Content-Length: HTTP/1.1 chunked transfer encoding. */
    private static Response chunked(String method, String path, String contentType, byte[] body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.api.port() + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + ADMIN)
                .header("Content-Type", contentType)
                .method(method, HttpRequest.BodyPublishers.ofInputStream(() -> new SequenceInputStream(
                        new ByteArrayInputStream(body), InputStream.nullInputStream())))
                .build();
        HttpResponse<String> r = HTTP11.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(r.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT)).contains("json");
        return new Response(r.statusCode(), r.body(), JSON.readTree(r.body()), r);
    }

    private record RawResponse(int status, String head, JsonNode json) {
    }

    /** Bytes as written, past any client's own URI and header checks. */
    private static RawResponse raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.api.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            s.getInputStream().transferTo(all);
            String text = all.toString(StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            String head = text.substring(0, split);
            assertThat(head.toLowerCase(Locale.ROOT)).as(head).contains("content-type: application/json");
            String body = text.substring(split + 4);
            if (head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
                StringBuilder joined = new StringBuilder();
                int at = 0;
                for (int size; (size = Integer.parseInt(body.substring(at, body.indexOf("\r\n", at)).strip(), 16)) > 0; ) {
                    int start = body.indexOf("\r\n", at) + 2;
                    joined.append(body, start, start + size);
                    at = start + size + 2;
                }
                body = joined.toString();
            }
            return new RawResponse(Integer.parseInt(head.substring(9, 12)), head, JSON.readTree(body));
        }
    }
}
