package dev.metering.app.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.metering.api.webhook.WebhookSignature;
import dev.metering.app.UserException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The demo's webhook receiver: a small HTTP server in the dev process, registered with the API
 * as a webhook for every org (replacing the one of an earlier start), which verifies each
 * delivery's Standard Webhooks signature and prints the alert at once, as a user's receiver would
 * e-mail it. Repeats of a {@code webhook-id} are printed once.
 */
public final class DemoAlertReceiver implements AutoCloseable {

    static final String PATH = "/demo-alerts";
    /** Standard Webhooks' default tolerance for the timestamp. */
    private static final long TOLERANCE_SECONDS = 300;
    private static final int MAX_BODY = 64 * 1024;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "demo-alerts");
        t.setDaemon(true);
        return t;
    });
    private final PrintStream out;
    private final ObjectMapper json = new ObjectMapper();
    private final java.util.Set<String> seen = java.util.Collections.synchronizedSet(
            java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<String, Boolean> eldest) {
                    return size() > 10_000;
                }
            }));
    private volatile String secret;

    private DemoAlertReceiver(HttpServer server, PrintStream out) {
        this.server = server;
        this.out = out;
    }

    /**
     * Starts the receiver on {@code port} of 127.0.0.1 (0: a free port) and registers it through
     * the API at {@code apiUrl}, removing endpoints an earlier start registered.
     */
    public static DemoAlertReceiver start(int port, String apiUrl, String adminToken, PrintStream out) throws Exception {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        } catch (BindException e) {
            throw new UserException("port " + port + " is already in use (demo alert receiver); stop what uses it or pick "
                    + "another port (see --help)");
        }
        DemoAlertReceiver r = new DemoAlertReceiver(server, out);
        server.setExecutor(r.executor);
        server.createContext(PATH, r::handle);
        server.start();
        try {
            r.register(apiUrl, adminToken);
        } catch (Exception e) {
            r.close();
            throw e;
        }
        return r;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + PATH;
    }

    private void register(String apiUrl, String token) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(apiUrl + "/api/v1/webhooks"))
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
        for (JsonNode e : json.readTree(list.body()).path("items")) {
            if (e.path("url").asText().endsWith(PATH) && e.path("url").asText().startsWith("http://127.0.0.1:")) {
                http.send(HttpRequest.newBuilder(URI.create(apiUrl + "/api/v1/webhooks/" + e.path("id").asText()))
                        .header("Authorization", "Bearer " + token).DELETE().build(), HttpResponse.BodyHandlers.discarding());
            }
        }
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(apiUrl + "/api/v1/webhooks"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"" + url() + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (created.statusCode() != 201) {
            throw new IllegalStateException("registering the demo webhook failed: HTTP " + created.statusCode() + " "
                    + created.body());
        }
        secret = json.readTree(created.body()).path("secret").asText();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            String body = new String(bytes, StandardCharsets.UTF_8);
            String id = ex.getRequestHeaders().getFirst("webhook-id");
            String problem = bytes.length > MAX_BODY ? "body too large" : verify(id, ex.getRequestHeaders().getFirst(
                    "webhook-timestamp"), ex.getRequestHeaders().getFirst("webhook-signature"), body);
            if (problem != null) {
                out.println("  alert REFUSED (" + problem + "): webhook-id " + id);
                ex.sendResponseHeaders(400, -1);
                return;
            }
            if (seen.add(id)) {
                out.println("  alert: " + describe(json.readTree(body)));
            }
            ex.sendResponseHeaders(204, -1);
        } catch (RuntimeException e) {
            ex.sendResponseHeaders(400, -1);
        } finally {
            ex.close();
        }
    }

    private String verify(String id, String timestamp, String signatures, String body) {
        if (secret == null || id == null || timestamp == null || signatures == null) {
            return "missing webhook headers";
        }
        long ts;
        try {
            ts = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            return "bad webhook-timestamp";
        }
        if (Math.abs(Instant.now().getEpochSecond() - ts) > TOLERANCE_SECONDS) {
            return "webhook-timestamp too far from now";
        }
        String expected = WebhookSignature.sign(secret, id, ts, body);
        for (String s : signatures.split(" ")) {
            if (java.security.MessageDigest.isEqual(s.getBytes(StandardCharsets.US_ASCII),
                    expected.getBytes(StandardCharsets.US_ASCII))) {
                return null;
            }
        }
        return "bad signature";
    }

    /** One line: {@code org-00001 daily-messages 80% (160/200)}. */
    static String describe(JsonNode alert) {
        JsonNode d = alert.path("data");
        String org = d.path("orgId").asText();
        switch (alert.path("type").asText()) {
            case "limit.threshold_reached": {
                String who = d.hasNonNull("userId") ? " user " + d.path("userId").asText()
                        : d.hasNonNull("conversationId") ? " conversation " + d.path("conversationId").asText() : "";
                String percent = new BigDecimal(d.path("threshold").asText()).movePointRight(2).stripTrailingZeros()
                        .toPlainString();
                return org + who + " " + d.path("limitId").asText() + " " + percent + "% (" + d.path("used").asText()
                        + "/" + d.path("limit").asText() + ")";
            }
            case "balance.low":
                return org + " balance $" + d.path("balanceUsd").asText() + " below $" + d.path("thresholdUsd").asText();
            case "credits.expiring":
                return org + " credits of $" + d.path("amountUsd").asText() + " expire at " + d.path("expiresAt").asText();
            default:
                return org + " " + alert.path("type").asText();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
