package dev.metering.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.devstack.KafkaBroker;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.SchemaRegistryServer;
import dev.metering.devstack.TestInfra;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code streams} and {@code api} from the production image's {@code metering-services.jar} (so it
 * runs them without the dev infrastructure, RocksDB included) as orchestrators stop them: SIGTERM
 * ({@code Process.destroy()}) must close the service and exit 0, the code docs/operations.md
 * documents for a requested stop (not 143, the JVM's code for death by SIGTERM).
 */
class ServiceStopIT {

    private static final KafkaBroker KAFKA = TestInfra.kafka();
    private static final SchemaRegistryServer REGISTRY = TestInfra.registry();
    private static final PostgresServer PG = TestInfra.postgres();

    @AfterAll
    static void tearDown() {
        ServiceProcess.killAll();
    }

    @Test
    void shouldExitZeroWhenStreamsIsStoppedWithSigterm() throws Exception {
        String id = "stop" + Long.toHexString(System.nanoTime());
        Path work = Files.createDirectories(Path.of("target", "it", id)).toAbsolutePath();
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", REGISTRY.confluentUrl());
        env.put("METERING_TOPIC_PREFIX", id + ".");
        env.put("METERING_TOPIC_PARTITIONS", "2");
        env.put("METERING_STREAMS_APPLICATION_ID", id + "-streams");
        env.put("METERING_STREAMS_STATE_DIR", work.resolve("state").toString());
        env.put("METERING_STREAMS_METRICS_PORT", "-1");
        ServiceProcess streams = ServiceProcess.start("streams", ServiceProcess.servicesJar(), "streams", env, work);

        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
            streams.requireAlive();
            return streams.logContains("State transition from REBALANCING to RUNNING");
        });

        assertThat(streams.stop()).isZero();
        assertThat(streams.logContains("State transition from PENDING_SHUTDOWN to NOT_RUNNING")).isTrue();
    }

    @Test
    void shouldExitZeroWhenTheApiIsStoppedWithSigterm() throws Exception {
        String id = "stopapi" + Long.toHexString(System.nanoTime());
        Path work = Files.createDirectories(Path.of("target", "it", id)).toAbsolutePath();
        int port = ServiceProcess.freePort();
        Map<String, String> env = new HashMap<>();
        env.put("METERING_DB_URL", PG.createDatabase(id));
        env.put("METERING_DB_USER", PG.user());
        env.put("METERING_DB_PASSWORD", PG.password());
        ServiceProcess.run("migrate", "migrate", env, work);
        env.put("METERING_API_PORT", Integer.toString(port));
        ServiceProcess api = ServiceProcess.start("api", ServiceProcess.servicesJar(), "api", env, work);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            api.requireAlive();
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        });

        assertThat(api.stop()).isZero();
    }
}
