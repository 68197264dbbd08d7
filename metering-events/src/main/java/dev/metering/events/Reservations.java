package dev.metering.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.avro.UsageEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletionException;

/**
 * Reserve, call, settle against billing-api's reservations (docs/contract.md, Reservations): the
 * amount is held before the expensive call, so concurrent calls cannot overshoot a hard cap.
 *
 * <pre>{@code
 * Reservations reservations = meter.reservations(URI.create("http://billing-api:8080"), apiKey);
 * try (Reservations.Hold hold = reservations.reserve(Reservations.Request.of("acme", "AI_COMPLETION")
 *         .costUsd(new BigDecimal("0.10")))) {
 *     if (!hold.allowed()) {
 *         return refuse(hold.code(), hold.retryAfterSeconds());
 *     }
 *     UsageEvent usage = callTheModel();   // an exception here releases the hold
 *     hold.settle(usage);                  // sends the event, waits for Kafka's ack, then settles
 * }
 * }</pre>
 * Thread-safe; a {@link Hold} is meant for one caller.
 */
public final class Reservations {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final UsageMeter meter;
    private final URI api;
    private final String apiKey;
    private final HttpClient http;

    Reservations(UsageMeter meter, URI apiBaseUrl, String apiKey) {
        this.meter = Objects.requireNonNull(meter, "meter");
        String base = Objects.requireNonNull(apiBaseUrl, "apiBaseUrl").toString();
        this.api = URI.create(base.endsWith("/") ? base : base + "/");
        this.apiKey = Objects.requireNonNull(apiKey, "apiKey");
        this.http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    }

    /**
     * What to reserve; {@code requestId} defaults to a random UUID (a retry of the same request
     * must reuse it), amounts default as for a check (quantity 1, tokens 0, costUsd 0), TTL 300 s.
     */
    public record Request(String orgId, String feature, String requestId, String userId, String conversationId,
                          long quantity, long tokens, BigDecimal costUsd, Integer ttlSeconds) {
        public Request {
            Objects.requireNonNull(orgId, "orgId");
            Objects.requireNonNull(feature, "feature");
            Objects.requireNonNull(requestId, "requestId");
            costUsd = costUsd == null ? BigDecimal.ZERO : costUsd;
        }

        public static Request of(String orgId, String feature) {
            return new Request(orgId, feature, UUID.randomUUID().toString(), null, null, 1, 0, BigDecimal.ZERO, null);
        }

        public Request requestId(String id) {
            return new Request(orgId, feature, id, userId, conversationId, quantity, tokens, costUsd, ttlSeconds);
        }

        public Request user(String id) {
            return new Request(orgId, feature, requestId, id, conversationId, quantity, tokens, costUsd, ttlSeconds);
        }

        public Request conversation(String id) {
            return new Request(orgId, feature, requestId, userId, id, quantity, tokens, costUsd, ttlSeconds);
        }

        public Request quantity(long n) {
            return new Request(orgId, feature, requestId, userId, conversationId, n, tokens, costUsd, ttlSeconds);
        }

        public Request tokens(long n) {
            return new Request(orgId, feature, requestId, userId, conversationId, quantity, n, costUsd, ttlSeconds);
        }

        public Request costUsd(BigDecimal usd) {
            return new Request(orgId, feature, requestId, userId, conversationId, quantity, tokens, usd, ttlSeconds);
        }

        public Request ttlSeconds(int seconds) {
            return new Request(orgId, feature, requestId, userId, conversationId, quantity, tokens, costUsd, seconds);
        }
    }

    /** An answer of billing-api other than the expected one (bad input, auth, an unknown reservation, ...). */
    public static final class ReservationException extends RuntimeException {
        private final int status;
        private final String code;

        ReservationException(int status, String code, String message) {
            super(status + " " + code + ": " + message);
            this.status = status;
            this.code = code;
        }

        public int status() {
            return status;
        }

        /** The error code, e.g. {@code RESERVATION_EXPIRED}, {@code REQUEST_ID_REUSED}. */
        public String code() {
            return code;
        }
    }

    /** Reserves: answers like a check; when allowed, the amount is held until settled, released or expired. */
    public Hold reserve(Request r) {
        ObjectNode body = JSON.createObjectNode().put("requestId", r.requestId()).put("feature", r.feature())
                .put("quantity", r.quantity()).put("tokens", r.tokens()).put("costUsd", r.costUsd().toPlainString());
        if (r.userId() != null) {
            body.put("userId", r.userId());
        }
        if (r.conversationId() != null) {
            body.put("conversationId", r.conversationId());
        }
        if (r.ttlSeconds() != null) {
            body.put("ttlSeconds", r.ttlSeconds());
        }
        JsonNode answer = send("POST", "api/v1/usage/" + path(r.orgId()) + "/reservations", body.toString());
        return new Hold(r.orgId(), answer);
    }

    /** One reservation's answer; closing it releases the hold unless it was settled or released. */
    public final class Hold implements AutoCloseable {
        private final String orgId;
        private final JsonNode answer;
        private boolean done;

        private Hold(String orgId, JsonNode answer) {
            this.orgId = orgId;
            this.answer = answer;
            this.done = !allowed();
        }

        public boolean allowed() {
            return answer.path("allowed").asBoolean(false) && reservationId() != null;
        }

        /** Why it was refused ({@code USAGE_LIMIT_EXCEEDED}, {@code INSUFFICIENT_BALANCE}, ...); null when allowed. */
        public String code() {
            return text("code");
        }

        /** Seconds until enough room frees; null when waiting cannot help or it was allowed. */
        public Long retryAfterSeconds() {
            JsonNode n = answer.get("retryAfterSeconds");
            return n == null || n.isNull() ? null : n.asLong();
        }

        public String reservationId() {
            return text("reservationId");
        }

        /** The whole answer (the check's fields plus reservationId and expiresAt). */
        public JsonNode answer() {
            return answer;
        }

        /** Turns the hold into pending usage until the pipeline counts the event {@code eventId}. */
        public synchronized void settle(String eventId) {
            requireHeld();
            ObjectNode body = JSON.createObjectNode();
            if (eventId != null) {
                body.put("eventId", eventId);
            }
            send("POST", "api/v1/usage/" + path(orgId) + "/reservations/" + path(reservationId()) + "/settle",
                    body.toString());
            done = true;
        }

        /**
         * Sends the usage event through the meter, waits until Kafka acknowledged it, then settles
         * with its eventId (the order that leaves no moment when the amount counts neither as held
         * nor as used).
         */
        public void settle(UsageEvent event) {
            try {
                meter.record(event).toCompletableFuture().join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException re ? re : e;
            }
            settle(event.getEventId());
        }

        /** Releases the hold now (the call failed or was not made). */
        public synchronized void release() {
            requireHeld();
            send("DELETE", "api/v1/usage/" + path(orgId) + "/reservations/" + path(reservationId()), null);
            done = true;
        }

        @Override
        public synchronized void close() {
            if (!done) {
                release();
            }
        }

        private void requireHeld() {
            if (!allowed()) {
                throw new IllegalStateException("the reservation was refused (" + code() + "): nothing is held");
            }
            if (done) {
                throw new IllegalStateException("reservation " + reservationId() + " was already settled or released");
            }
        }

        private String text(String field) {
            JsonNode n = answer.get(field);
            return n == null || n.isNull() ? null : n.asText();
        }
    }

    private JsonNode send(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(api.resolve(path)).timeout(TIMEOUT)
                .header("Authorization", "Bearer " + apiKey)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        JsonNode json = parse(r.body());
        if (r.statusCode() >= 300) {
            JsonNode error = json.path("error");
            throw new ReservationException(r.statusCode(), error.path("code").asText("HTTP_" + r.statusCode()),
                    error.path("message").asText(r.body()));
        }
        return json;
    }

    private static JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    private static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
