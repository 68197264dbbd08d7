package dev.metering.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.audit.Actor;
import dev.metering.api.BillingApi;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.plan.CatalogParser;
import dev.metering.avro.UsageEvent;
import dev.metering.db.Migrations;
import dev.metering.devstack.KafkaBroker;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.SchemaRegistryServer;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.TopicProvisioner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A running pipeline (real broker, registry, PostgreSQL; streams, sink and two API instances in
 * this JVM, one fail-open and one fail-closed) under continuous traffic (a fifth of it mis-keyed,
 * so it also flows through streams' repartition topic): fresh while all runs; with streams stopped,
 * the idle-looking sink keeps heartbeating, yet within the staleness bound checks say
 * {@code stale: true} and follow each policy, and {@code /ready} is 503 naming streams; once
 * streams runs again, both recover. Prints how long each took.
 */
class PipelineStallIT {

    private static final String TOKEN = "stall-admin-token-0123456789";
    private static final Duration MAX_STALENESS = Duration.ofSeconds(10);
    private static final String CATALOG = """
            defaultPlan: team
            plans:
              - id: team
                limits:
                  - { id: day-messages, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 1000000 }
            """;

    private static final KafkaBroker KAFKA = TestInfra.kafka();
    private static final SchemaRegistryServer REGISTRY = TestInfra.registry();
    private static final PostgresServer PG = TestInfra.postgres();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static Map<String, String> env;
    private static Path work;
    private static BillingApi open;
    private static BillingApi closed;
    private static StreamsApp streams;
    private static SinkApp.RunningSink sink;
    private static ScheduledExecutorService traffic;
    private static KafkaProducer<String, byte[]> producer;
    private static final AtomicLong sent = new AtomicLong();

    @BeforeAll
    static void setUp() throws Exception {
        String id = "stall" + Long.toHexString(System.nanoTime());
        work = Files.createDirectories(Path.of("target", "stall", id));
        String dbUrl = PG.createDatabase("pipeline_stall");
        Topics topics = new Topics(id + ".");
        env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", REGISTRY.confluentUrl());
        env.put("METERING_TOPIC_PREFIX", topics.prefix());
        env.put("METERING_TOPIC_PARTITIONS", "4");
        env.put("METERING_DB_URL", dbUrl);
        env.put("METERING_DB_USER", PG.user());
        env.put("METERING_DB_PASSWORD", PG.password());
        env.put("METERING_GRACE", "2h");
        env.put("METERING_STREAMS_APPLICATION_ID", id + "-streams");
        env.put("METERING_STREAMS_METRICS_PORT", "-1");
        env.put("METERING_SINK_GROUP_ID", id + "-sink");
        env.put("METERING_SINK_METRICS_PORT", "0");
        env.put("METERING_SINK_MIGRATE", "false");
        env.put("METERING_SINK_HEARTBEAT", "1s");
        env.put("METERING_API_PORT", "0");
        env.put("METERING_ADMIN_TOKEN", TOKEN);
        env.put("METERING_MAX_STALENESS", MAX_STALENESS.toSeconds() + "s");

        Migrations.migrate(dbUrl, PG.user(), PG.password());
        TopicProvisioner.ensureTopics(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics, 4,
                Optional.empty(), true);
        streams = startStreams("streams-1");
        sink = SinkApp.start(SinkConfig.from(ConfigSource.of(env)));
        open = startApi("fail-open");
        open.service().putCatalog(CATALOG, CatalogParser.Format.YAML, Actor.tool("stall", Instant.now()));
        closed = startApi("fail-closed");

        // continuous load for the whole test: streams' input lag is never exactly 0
        producer = new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers(), "acks", "all",
                "enable.idempotence", true, "linger.ms", 5), new StringSerializer(), new ByteArraySerializer());
        Serializer<UsageEvent> serializer = AvroSerdes.specific(UsageEvent.class, HttpSchemaRegistryClient.fromConfig(
                Map.of(HttpSchemaRegistryClient.URL_CONFIG, REGISTRY.confluentUrl())),
                Map.of("auto.register.schemas", true), false).serializer();
        traffic = Executors.newSingleThreadScheduledExecutor();
        traffic.scheduleAtFixedRate(() -> {
            long n = sent.incrementAndGet();
            String org = "org-" + (n % 4);
            UsageEvent e = UsageEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setOrgId(org)
                    .setOccurredAt(Instant.now()).setFeature("CHAT_MESSAGE").setQuantity(1)
                    .setAttributes(new HashMap<>()).build();
            // every 5th mis-keyed: streams re-keys it through its repartition topic, which the watch follows too
            String key = n % 5 == 0 ? "not-the-org-" + n : org;
            producer.send(new ProducerRecord<>(topics.events(), key, serializer.serialize(topics.events(), e)));
        }, 0, 50, TimeUnit.MILLISECONDS);
    }

    @AfterAll
    static void tearDown() {
        if (traffic != null) {
            traffic.shutdownNow();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        for (AutoCloseable c : new AutoCloseable[] {sink, streams, open, closed}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // the next one still gets closed
                }
            }
        }
    }

    @Test
    void shouldReportStaleAndNotReadyWithinTheStalenessBoundWhileStreamsIsStoppedAndRecoverAfterItsRestart()
            throws Exception {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(check(open).path("stale").asBoolean()).isFalse();
            assertThat(check(open).path("limits").path(0).path("used").asLong()).isPositive();
            assertThat(get(open, "/ready").statusCode()).isEqualTo(200);
        });

        streams.close();
        long stopped = System.nanoTime();
        await().atMost(MAX_STALENESS.multipliedBy(4)).pollInterval(Duration.ofMillis(100))
                .until(() -> check(open).path("stale").asBoolean());
        Duration staleAfter = Duration.ofNanos(System.nanoTime() - stopped);
        System.out.printf("streams stopped: checks stale after %d ms (METERING_MAX_STALENESS %s, %d events sent)%n",
                staleAfter.toMillis(), MAX_STALENESS, sent.get());

        JsonNode allowed = check(open);
        assertThat(allowed.path("allowed").asBoolean()).isTrue();
        assertThat(allowed.path("code").isNull()).isTrue();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            JsonNode refused = check(closed);
            assertThat(refused.path("stale").asBoolean()).isTrue();
            assertThat(refused.path("allowed").asBoolean()).isFalse();
            assertThat(refused.path("code").asText()).isEqualTo("USAGE_DATA_STALE");
            assertThat(refused.path("suggestedStatus").asInt()).isEqualTo(503);
        });
        for (BillingApi api : new BillingApi[] {open, closed}) {
            HttpResponse<String> ready = get(api, "/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            JsonNode body = JSON.readTree(ready.body());
            assertThat(body.path("database").asText()).isEqualTo("up");
            assertThat(body.path("stalled").asText()).isEqualTo("streams");
            assertThat(body.path("reason").asText()).startsWith("metering-streams has not processed the events appended since ");
        }
        // the sink itself is alive and says which stage holds usage back (its gauges move every heartbeat)
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sink.metricsPort()
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(gauge(metrics, "metering_sink_streams_progress_age_seconds"))
                    .isGreaterThan(MAX_STALENESS.toSeconds());
            assertThat(gauge(metrics, "metering_sink_streams_input_lag")).isPositive();
        });

        streams = startStreams("streams-2");
        long restarted = System.nanoTime();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(check(open).path("stale").asBoolean()).isFalse();
            assertThat(check(closed).path("allowed").asBoolean()).isTrue();
            assertThat(get(open, "/ready").statusCode()).isEqualTo(200);
        });
        System.out.printf("streams restarted: checks fresh and /ready 200 again after %d ms%n",
                Duration.ofNanos(System.nanoTime() - restarted).toMillis());
    }

    private static StreamsApp startStreams(String stateDir) {
        Map<String, String> e = new HashMap<>(env);
        e.put("METERING_STREAMS_STATE_DIR", work.resolve(stateDir).toAbsolutePath().toString());
        return StreamsApp.start(StreamsAppConfig.from(ConfigSource.of(e)));
    }

    private static BillingApi startApi(String policy) {
        Map<String, String> e = new HashMap<>(env);
        e.put("METERING_STALE_POLICY", policy);
        return BillingApi.start(BillingApiConfig.from(ConfigSource.of(e)), Clock.systemUTC());
    }

    private static JsonNode check(BillingApi api) throws Exception {
        HttpResponse<String> r = get(api, "/api/v1/usage/org-1/check/CHAT_MESSAGE");
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> get(BillingApi api, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static double gauge(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.split(" ")[1]))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not in " + metrics));
    }
}
