package dev.metering.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.devstack.KafkaBroker;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.SchemaRegistryServer;
import dev.metering.devstack.TestInfra;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The production image's Java runtime runs the product: {@code src/image/build-runtime.sh} (the
 * script the Dockerfile runs) cuts a runtime with this JDK's jlink, and {@code migrate},
 * {@code prices apply}, {@code plans apply} (YAML), {@code streams}, {@code sink} and {@code api} from
 * {@code metering-services.jar} run on it as separate processes against the real broker, registry
 * and PostgreSQL. Events ingested over HTTP, one of them sent twice, are counted exactly once and
 * priced; the metrics endpoints and the API's docs assets answer. A module the services need but
 * the script leaves out shows here as a failed service (e.g. a {@code NoClassDefFoundError}).
 */
class ProductionRuntimeIT {

    private static final String TOKEN = "runtime-admin-token-0123456789";
    private static final String ORG = "org-rt";
    private static final String PRICES = """
            provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from,cache_write_per_1m_usd,above_input_tokens,service_tiers
            openai,gpt-5-mini,0.25,0.025,2.00,2025-08-07,,,
            """;

    private static final KafkaBroker KAFKA = TestInfra.kafka();
    private static final SchemaRegistryServer REGISTRY = TestInfra.registry();
    private static final PostgresServer PG = TestInfra.postgres();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @AfterAll
    static void tearDown() {
        ServiceProcess.killAll();
    }

    @Test
    void shouldMeterEndToEndOnTheImagesRuntime() throws Exception {
        Path javaHome = Path.of(System.getProperty("java.home"));
        Assumptions.assumeTrue(Files.isExecutable(javaHome.resolve("bin").resolve("jlink")),
                "skipped: " + javaHome + " has no bin/jlink (a JRE, not a JDK), so the image's runtime cannot be built");
        String id = "rt" + Long.toHexString(System.nanoTime());
        Path work = Files.createDirectories(Path.of("target", "it", id)).toAbsolutePath();
        Path runtime = buildRuntime(javaHome, work.resolve("jre"), work);
        Path jar = ServiceProcess.servicesJar();

        int streamsMetrics = ServiceProcess.freePort();
        int sinkMetrics = ServiceProcess.freePort();
        int apiPort = ServiceProcess.freePort();
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", REGISTRY.confluentUrl());
        env.put("METERING_TOPIC_PREFIX", id + ".");
        env.put("METERING_TOPIC_PARTITIONS", "2");
        env.put("METERING_DB_URL", PG.createDatabase(id));
        env.put("METERING_DB_USER", PG.user());
        env.put("METERING_DB_PASSWORD", PG.password());
        env.put("METERING_STREAMS_APPLICATION_ID", id + "-streams");
        env.put("METERING_STREAMS_STATE_DIR", work.resolve("state").toString());
        env.put("METERING_STREAMS_METRICS_PORT", Integer.toString(streamsMetrics));
        env.put("METERING_SINK_GROUP_ID", id + "-sink");
        env.put("METERING_SINK_METRICS_PORT", Integer.toString(sinkMetrics));
        env.put("METERING_SINK_MIGRATE", "false");
        env.put("METERING_API_PORT", Integer.toString(apiPort));
        env.put("METERING_ADMIN_TOKEN", TOKEN);

        ServiceProcess.run("migrate", runtime, jar, List.of("migrate"), env, work);
        Path prices = Files.writeString(work.resolve("prices.csv"), PRICES, StandardCharsets.UTF_8);
        ServiceProcess.run("prices", runtime, jar, List.of("prices", "apply", prices.toString()), env, work);
        Path plans = Path.of("..", "examples", "000-chat-rate-limiting.yaml").toAbsolutePath();
        ServiceProcess.run("plans", runtime, jar, List.of("plans", "apply", plans.toString()), env, work);
        ServiceProcess streams = ServiceProcess.start("streams", runtime, jar, "streams", env, work);
        ServiceProcess sink = ServiceProcess.start("sink", runtime, jar, "sink", env, work);
        ServiceProcess api = ServiceProcess.start("api", runtime, jar, "api", env, work);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> {
            api.requireAlive();
            return get(apiPort, "/health").statusCode() == 200;
        });

        // three events, the first one sent again as a client's retry would: counted once
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        List<String> events = List.of(event(hour), event(hour.plusSeconds(1)), event(hour.plusSeconds(2)));
        assertThat(ingest(apiPort, "[" + String.join(",", events) + "]")).isEqualTo(3);
        assertThat(ingest(apiPort, "[" + events.get(0) + "]")).isEqualTo(1);

        String[] report = {""};
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            streams.requireAlive();
            sink.requireAlive();
            report[0] = report(apiPort, hour);
            assertThat(report[0]).isEqualTo("events=3 quantity=3 inputTokens=3000 outputTokens=1500 unpricedEvents=0 costUsd=0.00375");
        });
        assertThat(streams.metric(streamsMetrics, "metering_streams_duplicates_total")).isEqualTo(1.0);
        assertThat(sink.metric(sinkMetrics, "metering_sink_unwritable_updates_total")).isZero();
        for (String asset : List.of("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css")) {
            assertThat(get(apiPort, asset).statusCode()).as(asset).isEqualTo(200);
        }

        assertThat(api.stop()).isZero();
        assertThat(sink.stop()).isZero();
        assertThat(streams.stop()).isZero();
    }

    /** Runs the image's runtime script with this JDK's jlink; fails with its output unless it exits 0. */
    private static Path buildRuntime(Path javaHome, Path out, Path work) throws Exception {
        Path script = Path.of("src", "image", "build-runtime.sh").toAbsolutePath();
        Path log = work.resolve("build-runtime.log");
        ProcessBuilder pb = new ProcessBuilder("sh", script.toString(), out.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("JAVA_HOME", javaHome.toString());
        Process p = pb.start();
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("jlink finished within 3 minutes").isTrue();
        assertThat(p.exitValue()).as("build-runtime.sh: %s", Files.readString(log)).isZero();
        assertThat(out.resolve("bin").resolve("java")).isExecutable();
        return out;
    }

    private static String event(Instant at) {
        return """
                {"eventId":"%s","orgId":"%s","occurredAt":"%s","feature":"CHAT_MESSAGE","userId":"u-1",\
                "provider":"openai","model":"gpt-5-mini","inputTokens":1000,"outputTokens":500}"""
                .formatted(UUID.randomUUID(), ORG, at);
    }

    /** POST /api/v1/events; returns how many the API accepted (202: Kafka acknowledged them). */
    private static int ingest(int apiPort, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + "/api/v1/events"))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return JSON.readTree(r.body()).path("accepted").asInt();
    }

    /** The org's hourly report for {@code hour}, summed over its rows. */
    private static String report(int apiPort, Instant hour) throws Exception {
        HttpResponse<String> r = get(apiPort, "/api/v1/usage/" + ORG + "/report?granularity=hour&from=" + hour
                + "&to=" + hour.plus(1, ChronoUnit.HOURS));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        long events = 0;
        long quantity = 0;
        long input = 0;
        long output = 0;
        long unpriced = 0;
        BigDecimal cost = BigDecimal.ZERO;
        for (JsonNode row : JSON.readTree(r.body()).path("rows")) {
            events += row.path("events").asLong();
            quantity += row.path("quantity").asLong();
            input += row.path("inputTokens").asLong();
            output += row.path("outputTokens").asLong();
            unpriced += row.path("unpricedEvents").asLong();
            cost = cost.add(new BigDecimal(row.path("costUsd").asText()));
        }
        return "events=" + events + " quantity=" + quantity + " inputTokens=" + input + " outputTokens=" + output
                + " unpricedEvents=" + unpriced + " costUsd=" + cost.stripTrailingZeros().toPlainString();
    }

    private static HttpResponse<String> get(int apiPort, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + path))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
