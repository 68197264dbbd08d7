package dev.metering.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code dev --infra-only} as a user runs the services the production way: it starts PostgreSQL,
 * Kafka and the registry and prints {@code export} lines; {@code api} started with exactly those
 * variables answers with the example plan catalog dev stored; Ctrl-C (SIGINT) stops dev with exit 0.
 */
class DevInfraOnlyIT {

    private static final Pattern EXPORT = Pattern.compile("^  export (METERING_[A-Z0-9_]+)=(.*)$", Pattern.MULTILINE);

    @AfterAll
    static void tearDown() {
        ServiceProcess.killAll();
    }

    @Test
    void shouldStartTheInfrastructureAndPrintTheExportsTheServicesRunWith() throws Exception {
        Path work = Files.createDirectories(Path.of("target", "it", "infra" + Long.toHexString(System.nanoTime())))
                .toAbsolutePath();
        Path devLog = work.resolve("dev.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                ServiceProcess.jar().toString(), "dev", "--infra-only", "--data-dir", work.resolve("dev").toString(),
                "--kafka-port", Integer.toString(ServiceProcess.freePort()),
                "--registry-port", Integer.toString(ServiceProcess.freePort()),
                "--postgres-port", Integer.toString(ServiceProcess.freePort()),
                "--api-port", Integer.toString(ServiceProcess.freePort()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(devLog.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("METERING_"));
        Process dev = pb.start();
        try {
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                assertThat(dev.isAlive()).as("dev is running; see %s", devLog).isTrue();
                return Files.readString(devLog).contains("java -jar metering-app/target/metering.jar streams");
            });
            String out = Files.readString(devLog, StandardCharsets.UTF_8);
            assertThat(out).contains("metering dev (infrastructure only) is running")
                    .contains("  Plans        examples/000-chat-rate-limiting.yaml")
                    .doesNotContain("Streams      started");
            Map<String, String> exports = new TreeMap<>();
            Matcher m = EXPORT.matcher(out);
            while (m.find()) {
                exports.put(m.group(1), m.group(2));
            }
            assertThat(exports).containsKeys("METERING_KAFKA_BOOTSTRAP", "METERING_SCHEMA_REGISTRY_URL", "METERING_DB_URL",
                    "METERING_DB_USER", "METERING_DB_PASSWORD", "METERING_ADMIN_TOKEN", "METERING_API_PORT",
                    "METERING_STREAMS_STATE_DIR");
            assertThat(Files.readString(work.resolve("dev").resolve("addresses.properties")))
                    .contains("METERING_DB_URL=");

            ServiceProcess api = ServiceProcess.start("api", ServiceProcess.servicesJar(), "api", exports, work);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpRequest plans = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exports.get("METERING_API_PORT")
                    + "/api/v1/plans")).header("Authorization", "Bearer " + exports.get("METERING_ADMIN_TOKEN")).build();
            String[] body = {""};
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> {
                HttpResponse<String> r = http.send(plans, HttpResponse.BodyHandlers.ofString());
                body[0] = r.body();
                return r.statusCode() == 200;
            });
            assertThat(body[0]).contains("TRIAL").contains("ENTERPRISE");
            assertThat(api.stop()).isZero();
        } finally {
            ProcessHandle.of(dev.pid()).ifPresent(h -> {
                try {
                    new ProcessBuilder("kill", "-INT", Long.toString(h.pid())).start().waitFor();
                } catch (Exception e) {
                    dev.destroy();
                }
            });
            assertThat(dev.waitFor(2, TimeUnit.MINUTES)).isTrue();
        }
        assertThat(dev.exitValue()).isZero();
        assertThat(Files.readString(devLog)).contains("stopped; data kept in");
    }
}
