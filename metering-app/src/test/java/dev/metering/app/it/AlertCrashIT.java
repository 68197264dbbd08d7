package dev.metering.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.metering.api.webhook.WebhookSignature;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The process that records and delivers alerts ({@code metering.jar api}, a child JVM) is killed
 * with SIGKILL while it records crossings (usage keeps arriving) and while deliveries hang at the
 * receiver, then started again: every crossing is recorded exactly once and delivered at least
 * once, with the same {@code webhook-id} (and the same signed body) on every attempt.
 */
class AlertCrashIT {

    private static final String TOKEN = "alert-crash-admin-token-0123";
    private static final int ORGS = 150;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private record Received(String id, String body, boolean verified) {
    }

    @AfterAll
    static void killChildren() {
        ServiceProcess.killAll();
    }

    @Test
    void shouldRecordEachCrossingOnceAndDeliverItWithOneWebhookIdAcrossAKilledAndRestartedApi() throws Exception {
        PostgresServer pg = TestInfra.postgres();
        String url = pg.createDatabase("alert_crash");
        Migrations.migrate(url, pg.user(), pg.password());
        Path logs = Files.createDirectories(Path.of("target", "alert-crash", Long.toHexString(System.nanoTime())));
        int port = ServiceProcess.freePort();
        Map<String, String> env = Map.of("METERING_DB_URL", url, "METERING_DB_USER", pg.user(),
                "METERING_DB_PASSWORD", pg.password(), "METERING_API_PORT", Integer.toString(port),
                "METERING_ADMIN_TOKEN", TOKEN);

        // the receiver records every request on arrival; until opened, it answers none (deliveries hang)
        List<Received> received = new ArrayList<>();
        CountDownLatch open = new CountDownLatch(1);
        AtomicInteger hanging = new AtomicInteger();
        String[] secret = new String[1];
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.setExecutor(Executors.newFixedThreadPool(32));
        receiver.createContext("/hook", ex -> receive(ex, secret, received, open, hanging));
        receiver.start();
        ServiceProcess api = null;
        try {
            api = startApi(env, logs, "api-1", port);
            send(port, "PUT", "/api/v1/plans", "application/yaml", """
                    defaultPlan: free
                    plans:
                      - id: free
                        limits:
                          - { id: daily-messages, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 100 }
                    """);
            JsonNode hook = JSON.readTree(send(port, "POST", "/api/v1/webhooks", "application/json",
                    "{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook\"}"));
            secret[0] = hook.get("secret").asText();

            // each org jumps to 100 of 100 messages: two crossings (80% and 100%), 50 orgs a second
            try (Connection db = DriverManager.getConnection(url, pg.user(), pg.password())) {
                int org = 0;
                long start = System.nanoTime();
                while (hanging.get() < 8 && org < ORGS * 3 / 4) {
                    org = writeDue(db, org, start);
                }
                assertThat(hanging.get()).as("deliveries hanging at the receiver").isGreaterThanOrEqualTo(8);
                api.kill();
                int recordedAtKill = count(db, "SELECT count(*) FROM metering.alerts");
                Set<String> inFlightAtKill = ids(received);
                assertThat(recordedAtKill).as("killed while recording").isLessThan(2 * ORGS);
                while (org < ORGS) {
                    org = writeDue(db, org, start);
                }

                open.countDown();
                api = startApi(env, logs, "api-2", port);
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
                        count(db, "SELECT count(*) FROM metering.webhook_deliveries WHERE status = 'delivered'") == 2 * ORGS);

                Map<String, List<String>> thresholds = new TreeMap<>();
                Map<String, String> messageIds = new HashMap<>();
                try (PreparedStatement st = db.prepareStatement("SELECT org_id, message_id, body FROM metering.alerts ORDER BY id");
                     ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        thresholds.computeIfAbsent(rs.getString(1), o -> new ArrayList<>())
                                .add(JSON.readTree(rs.getString(3)).at("/data/threshold").asText());
                        messageIds.put(rs.getString(2), rs.getString(3));
                    }
                }
                assertThat(thresholds).hasSize(ORGS).allSatisfy((o, t) -> assertThat(t).containsExactlyInAnyOrder("0.8", "1"));
                List<Received> got;
                synchronized (received) {
                    got = List.copyOf(received);
                }
                assertThat(got).allSatisfy(r -> {
                    assertThat(r.verified()).as("signature of " + r.id()).isTrue();
                    assertThat(messageIds).containsEntry(r.id(), r.body());
                });
                assertThat(ids(got)).isEqualTo(messageIds.keySet());
                // the deliveries hanging when the process died were sent again, under the same webhook-id
                assertThat(inFlightAtKill).isNotEmpty().allSatisfy(id ->
                        assertThat(got.stream().filter(r -> r.id().equals(id)).count()).as(id).isGreaterThanOrEqualTo(2));
                System.out.printf("alert crash: %d alerts recorded at the kill, %d deliveries in flight, %d requests received"
                        + " for %d alerts%n", recordedAtKill, inFlightAtKill.size(), got.size(), messageIds.size());
            }
        } finally {
            open.countDown();
            if (api != null) {
                api.stop();
            }
            receiver.stop(0);
        }
    }

    private static void receive(HttpExchange ex, String[] secret, List<Received> received, CountDownLatch open,
                                AtomicInteger hanging) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String id = ex.getRequestHeaders().getFirst("webhook-id");
            String timestamp = ex.getRequestHeaders().getFirst("webhook-timestamp");
            String signature = ex.getRequestHeaders().getFirst("webhook-signature");
            boolean verified = id != null && timestamp != null && signature != null
                    && signature.equals(WebhookSignature.sign(secret[0], id, Long.parseLong(timestamp), body));
            synchronized (received) {
                received.add(new Received(id, body, verified));
            }
            if (open.getCount() > 0) {
                hanging.incrementAndGet();
                open.await(3, TimeUnit.MINUTES);
            }
            ex.sendResponseHeaders(204, -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the sender died while this request hung: nothing to answer
        } finally {
            ex.close();
        }
    }

    private static Set<String> ids(List<Received> received) {
        synchronized (received) {
            Set<String> out = new HashSet<>();
            received.forEach(r -> out.add(r.id()));
            return out;
        }
    }

    private static ServiceProcess startApi(Map<String, String> env, Path logs, String name, int port) {
        ServiceProcess p = ServiceProcess.start(name, "api", env, logs);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200)).until(() -> {
            p.requireAlive();
            try {
                return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).GET().build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        });
        return p;
    }

    private static String send(int port, String method, String path, String contentType, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", contentType)
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
        return r.body();
    }

    /** Writes the orgs due by now (50 a second from {@code start}) as the sink writes them; returns the next org. */
    private static int writeDue(Connection db, int org, long start) throws SQLException {
        long due = (System.nanoTime() - start) / 20_000_000L;
        while (org < ORGS && org <= due) {
            write(db, "org-" + org++, 100);
        }
        // pacing the writes, not waiting for a state
        java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
        return org;
    }

    private static void write(Connection db, String org, long messages) throws SQLException {
        Instant now = Instant.now();
        OffsetDateTime at = now.atOffset(ZoneOffset.UTC);
        String totals = "events, quantity, input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd, "
                + "first_event_at, last_event_at, updated_at, version";
        String values = "?, ?, 0, 0, 0, 0, 0, ?, ?, ?, 1";
        for (String[] table : new String[][] {{"usage_hourly", "HOURS"}, {"usage_daily", "DAYS"}}) {
            try (PreparedStatement st = db.prepareStatement("INSERT INTO metering." + table[0] + " (org_id, user_id, feature, "
                    + "provider, model, window_start, " + totals + ") VALUES (?, '', 'CHAT_MESSAGE', '', '', ?, " + values + ")")) {
                bind(st, org, now.truncatedTo(ChronoUnit.valueOf(table[1])), messages, at);
                st.executeUpdate();
            }
        }
        for (String[] table : new String[][] {{"org_usage_hourly", "HOURS"}, {"org_usage_daily", "DAYS"}}) {
            try (PreparedStatement st = db.prepareStatement("INSERT INTO metering." + table[0] + " (org_id, feature, window_start, "
                    + totals + ") VALUES (?, 'CHAT_MESSAGE', ?, " + values + ")")) {
                bind(st, org, now.truncatedTo(ChronoUnit.valueOf(table[1])), messages, at);
                st.executeUpdate();
            }
        }
    }

    private static void bind(PreparedStatement st, String org, Instant window, long messages, OffsetDateTime at)
            throws SQLException {
        st.setString(1, org);
        st.setObject(2, window.atOffset(ZoneOffset.UTC));
        st.setLong(3, messages);
        st.setLong(4, messages);
        st.setObject(5, at);
        st.setObject(6, at);
        st.setObject(7, at);
    }

    private static int count(Connection db, String sql) throws SQLException {
        try (PreparedStatement st = db.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
