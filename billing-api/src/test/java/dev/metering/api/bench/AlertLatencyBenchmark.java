package dev.metering.api.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.metering.api.BillingApi;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.it.SinkRows;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import org.jooq.impl.DSL;

/**
 * Prints the latency from a usage write crossing 80% of a limit (the sink's commit) to the
 * webhook's arrival at a local receiver, p50 / p99 / max, for {@code orgs=} orgs crossing at
 * {@code rate=} per second. Not a test: it prints numbers. {@code warm} checks every org once first,
 * so the API has their accounts in memory, as it has for orgs in use.
 *
 * <pre>java -cp ... dev.metering.api.bench.AlertLatencyBenchmark orgs=500 rate=50 [warm]</pre>
 */
public final class AlertLatencyBenchmark {

    private static final String ADMIN = "bench-admin-token-0123456789";

    public static void main(String[] args) throws Exception {
        int orgs = 500;
        int rate = 50;
        boolean warm = false;
        for (String a : args) {
            if (a.startsWith("orgs=")) {
                orgs = Integer.parseInt(a.substring(5));
            } else if (a.startsWith("rate=")) {
                rate = Integer.parseInt(a.substring(5));
            } else if (a.equals("warm")) {
                warm = true;
            }
        }
        PostgresServer pg = TestInfra.postgres();
        String url = pg.createDatabase("alerts_bench_" + System.currentTimeMillis());
        Migrations.migrate(url, pg.user(), pg.password());
        ConcurrentHashMap<String, Long> arrived = new ConcurrentHashMap<>();
        ObjectMapper json = new ObjectMapper();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", ex -> {
            long now = System.nanoTime();
            try (InputStream in = ex.getRequestBody()) {
                JsonNode body = json.readTree(in.readAllBytes());
                arrived.putIfAbsent(body.at("/data/orgId").asText(), now);
            }
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        receiver.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        receiver.start();
        BillingApiConfig config = new BillingApiConfig(0, url, pg.user(), pg.password(), ADMIN, EnforcementMode.ENFORCE, 0,
                Duration.ofSeconds(60), StalePolicy.FAIL_OPEN, 8);
        try (BillingApi api = BillingApi.start(config, Clock.systemUTC())) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + api.port();
            send(http, HttpRequest.newBuilder(URI.create(base + "/api/v1/plans")).header("Content-Type", "application/yaml")
                    .PUT(HttpRequest.BodyPublishers.ofString("defaultPlan: free\nplans:\n  - id: free\n    limits:\n"
                            + "      - { id: daily, meter: quantity, window: day, max: 100, alertAt: [0.8] }\n")));
            send(http, HttpRequest.newBuilder(URI.create(base + "/api/v1/webhooks")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort()
                            + "/hook\"}")));
            for (int i = 0; warm && i < orgs; i++) {
                send(http, HttpRequest.newBuilder(URI.create(base + "/api/v1/usage/org-" + i + "/check/CHAT_MESSAGE")).GET());
            }
            SinkRows sink = new SinkRows(DSL.using(url, pg.user(), pg.password()).dsl());
            long[] written = new long[orgs];
            long[] writtenWall = new long[orgs];
            long start = System.nanoTime();
            for (int i = 0; i < orgs; i++) {
                long due = start + (long) i * 1_000_000_000L / rate;
                while (System.nanoTime() < due) {
                    Thread.onSpinWait();
                }
                sink.messages("org-" + i, "", Clock.systemUTC().instant(), 85);
                written[i] = System.nanoTime();
                writtenWall[i] = System.currentTimeMillis();
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (arrived.size() < orgs && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            double[] ms = new double[arrived.size()];
            int n = 0;
            for (int i = 0; i < orgs; i++) {
                Long t = arrived.get("org-" + i);
                if (t != null) {
                    ms[n++] = (t - written[i]) / 1e6;
                }
            }
            Arrays.sort(ms, 0, n);
            // the detection part: from the write to the alert's recording (created_at, wall clock)
            var recordedAt = DSL.using(url, pg.user(), pg.password())
                    .fetch("SELECT org_id, created_at FROM metering.alerts").intoMap(0, 1);
            double[] detect = new double[recordedAt.size()];
            int d = 0;
            for (int i = 0; i < orgs; i++) {
                Object t = recordedAt.get("org-" + i);
                if (t instanceof java.time.OffsetDateTime odt) {
                    detect[d++] = odt.toInstant().toEpochMilli() - writtenWall[i];
                }
            }
            Arrays.sort(detect, 0, d);
            System.out.printf("detection (write to record): p50=%.0f ms p99=%.0f ms%n", d == 0 ? 0 : detect[d / 2],
                    d == 0 ? 0 : detect[Math.min(d - 1, (int) Math.ceil(d * 0.99) - 1)]);
            System.out.printf("orgs=%d rate=%d/s warm=%s arrived=%d p50=%.0f ms p99=%.0f ms max=%.0f ms%n", orgs, rate, warm, n,
                    n == 0 ? 0 : ms[n / 2], n == 0 ? 0 : ms[Math.min(n - 1, (int) Math.ceil(n * 0.99) - 1)],
                    n == 0 ? 0 : ms[n - 1]);
        } finally {
            receiver.stop(0);
        }
        System.exit(0);
    }

    private static void send(HttpClient http, HttpRequest.Builder b) throws Exception {
        HttpResponse<String> r = http.send(b.header("Authorization", "Bearer " + ADMIN).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(r.statusCode() + " " + r.body());
        }
    }
}
