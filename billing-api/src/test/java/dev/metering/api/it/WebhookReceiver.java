package dev.metering.api.it;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A real HTTP receiver on a free port of 127.0.0.1 that verifies each request as a Standard
 * Webhooks consumer does: the HMAC-SHA256 of "id.timestamp.body" under the base64-decoded secret
 * must equal one of the space-separated {@code v1,} signatures, and the timestamp must be within
 * 5 minutes of its clock. Answers with the scripted statuses, then 200.
 */
public final class WebhookReceiver implements AutoCloseable {

    /** A received request and whether its signature verified. */
    public record Received(String id, long timestamp, String signature, String body, boolean verified) {
    }

    private static final Duration TOLERANCE = Duration.ofMinutes(5);

    private final HttpServer server;
    private final Clock clock;
    private final List<Received> received = new ArrayList<>();
    private final Deque<Integer> statuses = new ArrayDeque<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile String secret;
    private volatile boolean hang;
    private volatile int always;

    public WebhookReceiver(Clock clock) {
        this.clock = clock;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/hook", exchange -> {
            byte[] bytes;
            try (InputStream in = exchange.getRequestBody()) {
                bytes = in.readAllBytes();
            }
            String body = new String(bytes, StandardCharsets.UTF_8);
            String id = exchange.getRequestHeaders().getFirst("webhook-id");
            String ts = exchange.getRequestHeaders().getFirst("webhook-timestamp");
            String sig = exchange.getRequestHeaders().getFirst("webhook-signature");
            long timestamp = ts == null ? -1 : Long.parseLong(ts);
            int status;
            synchronized (this) {
                received.add(new Received(id, timestamp, sig, body, verify(id, timestamp, sig, body)));
                status = always != 0 ? always : statuses.isEmpty() ? 200 : statuses.poll();
            }
            if (hang) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] answer = "ok".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    public void secret(String secret) {
        this.secret = secret;
    }

    public synchronized void answer(Integer... codes) {
        statuses.addAll(List.of(codes));
    }

    /** Answers {@code status} to every request from now on; 0 returns to the script, then 200. */
    public void always(int status) {
        always = status;
    }

    /** Stops holding requests, and lets the held ones answer. */
    public void release() {
        hang = false;
        release.countDown();
    }

    public synchronized void reset() {
        received.clear();
    }

    /** Every request is held until {@link #close()} (a receiver that never answers). */
    public void hang() {
        hang = true;
    }

    public synchronized List<Received> received() {
        return List.copyOf(received);
    }

    private boolean verify(String id, long timestamp, String header, String body) {
        if (id == null || header == null || secret == null
                || Math.abs(timestamp - clock.instant().getEpochSecond()) > TOLERANCE.getSeconds()) {
            return false;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
            byte[] expected = mac.doFinal((id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
            for (String candidate : header.split(" ")) {
                String[] parts = candidate.split(",", 2);
                if (parts.length == 2 && parts[0].equals("v1")
                        && MessageDigest.isEqual(Base64.getDecoder().decode(parts[1]), expected)) {
                    return true;
                }
            }
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
    }
}
