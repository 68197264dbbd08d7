package dev.metering.api.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.BillingApi;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.ratelimit.RateLimitSettings;
import dev.metering.devstack.MutableClock;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import dev.metering.db.Migrations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * The real billing API (production {@code BillingApi.start}, production routes) on a random
 * port, over a fresh database of the shared real PostgreSQL, plus an HTTP client. Rate limits are
 * off unless a test asks for them ({@link #startWithRateLimits}): the test clock stands still, so
 * no bucket would ever refill.
 */
public final class ApiServer implements AutoCloseable {

    public static final String ADMIN = "test-admin-token-0123456789";
    public static final Instant T0 = Instant.parse("2026-11-22T18:30:00Z");
    /** A catalog of two plans with one daily message limit each: free (50, the default) and pro (1,000). */
    public static final String FREE_AND_PRO = """
            defaultPlan: free
            plans:
              - id: free
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 50 }]
              - id: pro
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 1000 }]
            """;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    public final MutableClock clock;
    public final BillingApi api;
    public final DSLContext db;
    public final SinkRows sink;
    public final String jdbcUrl;

    private ApiServer(MutableClock clock, BillingApi api, DSLContext db, String jdbcUrl) {
        this.clock = clock;
        this.api = api;
        this.db = db;
        this.sink = new SinkRows(db);
        this.jdbcUrl = jdbcUrl;
    }

    /** A fresh database named {@code database} and a server on it in enforce mode, fail-open, usage fresh at T0. */
    public static ApiServer start(String database) {
        return start(freshDatabase(database), EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
    }

    public static String freshDatabase(String database) {
        PostgresServer pg = TestInfra.postgres();
        String url = pg.createDatabase(database);
        Migrations.migrate(url, pg.user(), pg.password());
        DSLContext dsl = DSL.using(url, pg.user(), pg.password());
        new SinkRows(dsl.dsl()).progress(T0);
        return url;
    }

    /** Another server on an existing database (e.g. a second instance, or other modes). */
    public static ApiServer start(String jdbcUrl, EnforcementMode mode, int canaryPercent, StalePolicy stalePolicy) {
        PostgresServer pg = TestInfra.postgres();
        MutableClock clock = new MutableClock(T0);
        BillingApiConfig config = new BillingApiConfig(0, jdbcUrl, pg.user(), pg.password(), ADMIN, mode, canaryPercent,
                Duration.ofSeconds(60), stalePolicy, 8).withRateLimits(RateLimitSettings.OFF);
        BillingApi api = BillingApi.start(config, clock);
        return new ApiServer(clock, api, DSL.using(jdbcUrl, pg.user(), pg.password()).dsl(), jdbcUrl);
    }

    /** Another server on an existing database with this pool size and reservation lock-free factor K. */
    public static ApiServer start(String jdbcUrl, int dbPoolSize, int lockFreeFactor) {
        PostgresServer pg = TestInfra.postgres();
        MutableClock clock = new MutableClock(T0);
        BillingApiConfig config = new BillingApiConfig(0, jdbcUrl, pg.user(), pg.password(), ADMIN,
                EnforcementMode.ENFORCE, 0, Duration.ofSeconds(60), StalePolicy.FAIL_OPEN, dbPoolSize)
                .withReservationLockFreeFactor(lockFreeFactor).withRateLimits(RateLimitSettings.OFF);
        BillingApi api = BillingApi.start(config, clock);
        return new ApiServer(clock, api, DSL.using(jdbcUrl, pg.user(), pg.password()).dsl(), jdbcUrl);
    }

    /** A fresh database and a server with the event log on ({@code METERING_EVENT_LOG=on}), without Kafka. */
    public static ApiServer startWithEventLog(String database) {
        PostgresServer pg = TestInfra.postgres();
        MutableClock clock = new MutableClock(T0);
        BillingApiConfig config = new BillingApiConfig(0, freshDatabase(database), pg.user(), pg.password(), ADMIN,
                EnforcementMode.ENFORCE, 0, Duration.ofSeconds(60), StalePolicy.FAIL_OPEN, 8).withEventLog(true)
                .withRateLimits(RateLimitSettings.OFF);
        BillingApi api = BillingApi.start(config, clock);
        return new ApiServer(clock, api, DSL.using(config.dbUrl(), pg.user(), pg.password()).dsl(), config.dbUrl());
    }

    /** A fresh database and a server with Kafka (ingest, prices, dead-letter decoding) on the shared broker and registry. */
    public static ApiServer startWithKafka(String database, dev.metering.api.config.KafkaSettings kafka) {
        PostgresServer pg = TestInfra.postgres();
        MutableClock clock = new MutableClock(T0);
        BillingApiConfig config = new BillingApiConfig(0, freshDatabase(database), pg.user(), pg.password(), ADMIN,
                EnforcementMode.ENFORCE, 0, Duration.ofSeconds(60), StalePolicy.FAIL_OPEN, 8).withKafka(kafka)
                .withRateLimits(RateLimitSettings.OFF);
        BillingApi api = BillingApi.start(config, clock);
        return new ApiServer(clock, api, DSL.using(config.dbUrl(), pg.user(), pg.password()).dsl(), config.dbUrl());
    }

    /** Another server on an existing database, with Kafka and the event log on. */
    public static ApiServer startWithKafka(String jdbcUrl, dev.metering.api.config.KafkaSettings kafka, boolean eventLog) {
        PostgresServer pg = TestInfra.postgres();
        MutableClock clock = new MutableClock(T0);
        BillingApiConfig config = new BillingApiConfig(0, jdbcUrl, pg.user(), pg.password(), ADMIN,
                EnforcementMode.ENFORCE, 0, Duration.ofSeconds(60), StalePolicy.FAIL_OPEN, 8).withKafka(kafka)
                .withEventLog(eventLog).withRateLimits(RateLimitSettings.OFF);
        BillingApi api = BillingApi.start(config, clock);
        return new ApiServer(clock, api, DSL.using(jdbcUrl, pg.user(), pg.password()).dsl(), jdbcUrl);
    }

    /** The same with the event log on too ({@code METERING_EVENT_LOG=on}, as streams and sink must have it). */
    public static ApiServer startWithKafkaAndEventLog(String database, dev.metering.api.config.KafkaSettings kafka) {
        PostgresServer pg = TestInfra.postgres();
        MutableClock clock = new MutableClock(T0);
        BillingApiConfig config = new BillingApiConfig(0, freshDatabase(database), pg.user(), pg.password(), ADMIN,
                EnforcementMode.ENFORCE, 0, Duration.ofSeconds(60), StalePolicy.FAIL_OPEN, 8).withKafka(kafka).withEventLog(true)
                .withRateLimits(RateLimitSettings.OFF);
        BillingApi api = BillingApi.start(config, clock);
        return new ApiServer(clock, api, DSL.using(config.dbUrl(), pg.user(), pg.password()).dsl(), config.dbUrl());
    }

    /** A fresh database and a server with these rate limits. */
    public static ApiServer startWithRateLimits(String database, RateLimitSettings limits) {
        PostgresServer pg = TestInfra.postgres();
        MutableClock clock = new MutableClock(T0);
        BillingApiConfig config = new BillingApiConfig(0, freshDatabase(database), pg.user(), pg.password(), ADMIN,
                EnforcementMode.ENFORCE, 0, Duration.ofSeconds(60), StalePolicy.FAIL_OPEN, 8).withRateLimits(limits);
        BillingApi api = BillingApi.start(config, clock);
        return new ApiServer(clock, api, DSL.using(config.dbUrl(), pg.user(), pg.password()).dsl(), config.dbUrl());
    }

    /** The value of a counter sample in {@code /metrics}, e.g. {@code metering_api_key_lookups_total{result="unknown"}}; 0 when absent. */
    public double metric(String sample) {
        for (String line : get("/metrics", null).body().split("\n")) {
            if (line.startsWith(sample + " ")) {
                return Double.parseDouble(line.substring(sample.length() + 1).trim());
            }
        }
        return 0;
    }

    /** An HTTP response: status, raw body and the body parsed as JSON (null when not JSON). */
    public record Response(int status, String body, JsonNode json, HttpResponse<String> raw) {
        public String text(String pointer) {
            JsonNode n = json.at(pointer);
            return n.isMissingNode() || n.isNull() ? null : n.asText();
        }
    }

    public Response get(String path, String key) {
        return send(request(path, key).GET().build());
    }

    public Response get(String path, String key, String accept) {
        return send(request(path, key).header("Accept", accept).GET().build());
    }

    public Response put(String path, String key, String contentType, String body) {
        return send(request(path, key).header("Content-Type", contentType)
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    public Response putJson(String path, String key, String body) {
        return put(path, key, "application/json", body);
    }

    public Response post(String path, String key, String body) {
        return send(request(path, key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** A POST of a large body with a longer timeout (bulk imports). */
    public Response post(String path, String key, String contentType, String body, Duration timeout) {
        return send(request(path, key).timeout(timeout).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** A POST with extra headers as name, value pairs (e.g. {@code Idempotency-Key}). */
    public Response post(String path, String key, String contentType, String body, String... headers) {
        HttpRequest.Builder b = request(path, key).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.build());
    }

    public Response delete(String path, String key) {
        return send(request(path, key).DELETE().build());
    }

    /** PUT /api/v1/plans with an example catalog or any YAML, as admin; fails the test unless 200. */
    public void applyCatalog(String yaml) {
        Response r = put("/api/v1/plans", ADMIN, "application/yaml", yaml);
        if (r.status() != 200) {
            throw new AssertionError("catalog refused: " + r.body());
        }
    }

    public Response subscribe(String org, String json) {
        Response r = putJson("/api/v1/orgs/" + enc(org) + "/subscription", ADMIN, json);
        if (r.status() != 200 && r.status() != 201) {
            throw new AssertionError("subscription refused: " + r.body());
        }
        return r;
    }

    public Response check(String org, String feature, String query) {
        return get("/api/v1/usage/" + enc(org) + "/check/" + feature + (query == null ? "" : "?" + query), ADMIN);
    }

    /** Creates an org key with scopes; returns {@code [id, key]}. */
    public String[] createKey(String org, String... scopes) {
        StringBuilder s = new StringBuilder();
        for (String sc : scopes) {
            s.append(s.length() == 0 ? "" : ",").append('"').append(sc).append('"');
        }
        Response r = post("/api/v1/api-keys", ADMIN, org == null ? "{\"scopes\":[" + s + "]}"
                : "{\"orgId\":" + quote(org) + ",\"scopes\":[" + s + "]}");
        if (r.status() != 201) {
            throw new AssertionError("key refused: " + r.body());
        }
        return new String[] {r.text("/id"), r.text("/key")};
    }

    public static String enc(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    public static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private HttpRequest.Builder request(String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
                .timeout(Duration.ofSeconds(10));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b;
    }

    private static Response send(HttpRequest request) {
        try {
            HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            JsonNode json = null;
            String ct = r.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
            if (ct.contains("json") && !r.body().isEmpty()) {
                json = JSON.readTree(r.body());
            }
            return new Response(r.statusCode(), r.body(), json, r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        api.close();
    }
}
