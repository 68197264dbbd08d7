package dev.metering.app.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.avro.UsageEvent;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a chat backend does before it serves a message: asks the check endpoint
 * ({@code GET /api/v1/usage/{orgId}/check/{feature}}) for the event's org, feature, quantity, prompt
 * tokens, user and conversation, and sends the event only when the answer says {@code allowed}.
 * Every event is counted once as allowed, refused (by code) or without an answer (the API not up,
 * failing or not answering; the event is not sent). After a connection failure or a 5xx it asks
 * nothing for {@link #PAUSE}, so a down API costs no request per event. One generator thread
 * asks; the counts may be read from any thread.
 */
final class CheckGate {

    static final Duration PAUSE = Duration.ofSeconds(1);

    /** One HTTP GET of a path below the API's base URL. */
    interface Transport {
        Answer get(String path) throws IOException, InterruptedException;
    }

    record Answer(int status, String body) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Transport transport;
    private final Clock clock;
    private Instant pausedUntil = Instant.MIN;
    private long allowed;
    private long wouldBlock;
    private long refused;
    private long unanswered;
    private final Map<String, Long> refusedByCode = new TreeMap<>();
    private String lastProblem;

    CheckGate(Transport transport, Clock clock) {
        this.transport = transport;
        this.clock = clock;
    }

    /** A gate on the real endpoint with a bearer token; short timeouts, as a chat request cannot wait long. */
    static CheckGate http(String apiUrl, String token, Clock clock) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(1)).build();
        return new CheckGate(path -> {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(apiUrl + path))
                    .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        }, clock);
    }

    /** True when {@code e} may be sent; counts the decision either way. */
    boolean allows(UsageEvent e) throws InterruptedException {
        if (clock.instant().isBefore(pausedUntil)) {
            return noAnswer(null, false);
        }
        Answer a;
        try {
            a = transport.get(path(e));
        } catch (IOException ex) {
            return noAnswer(ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage()), true);
        }
        if (a.status() != 200) {
            return noAnswer("HTTP " + a.status(), a.status() >= 500);
        }
        JsonNode body;
        try {
            body = JSON.readTree(a.body());
        } catch (IOException ex) {
            return noAnswer("unreadable answer", false);
        }
        JsonNode verdict = body == null ? null : body.get("allowed");
        if (verdict == null || !verdict.isBoolean()) {
            return noAnswer("answer without allowed", false);
        }
        if (verdict.booleanValue()) {
            countAllowed(body.path("wouldBlock").asBoolean(false));
            return true;
        }
        countRefused(body.path("code").isTextual() ? body.path("code").asText() : "REFUSED");
        return false;
    }

    private synchronized void countAllowed(boolean wouldHaveBlocked) {
        allowed++;
        if (wouldHaveBlocked) {
            wouldBlock++;
        }
    }

    private synchronized void countRefused(String code) {
        refused++;
        refusedByCode.merge(code, 1L, Long::sum);
    }

    /** Counts an event not sent for want of an answer; {@code problem} null while paused after an earlier one. */
    private synchronized boolean noAnswer(String problem, boolean pause) {
        unanswered++;
        if (problem != null) {
            lastProblem = problem;
        }
        if (pause) {
            pausedUntil = clock.instant().plus(PAUSE);
        }
        return false;
    }

    static String path(UsageEvent e) {
        long promptTokens = e.getInputTokens() + e.getCachedInputTokens() + e.getCacheWriteTokens();
        StringBuilder p = new StringBuilder("/api/v1/usage/").append(encode(e.getOrgId())).append("/check/")
                .append(encode(e.getFeature())).append("?quantity=").append(e.getQuantity())
                .append("&tokens=").append(promptTokens);
        if (e.getUserId() != null) {
            p.append("&userId=").append(encode(e.getUserId()));
        }
        if (e.getConversationId() != null) {
            p.append("&conversationId=").append(encode(e.getConversationId()));
        }
        return p.toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The counts as the live summary prints them (one line). */
    synchronized String summary() {
        StringBuilder sb = new StringBuilder("demo checks before sending: ").append(allowed).append(" allowed");
        if (wouldBlock > 0) {
            sb.append(" (").append(wouldBlock).append(" would block)");
        }
        sb.append(", ").append(refused).append(" refused");
        if (!refusedByCode.isEmpty()) {
            StringBuilder codes = new StringBuilder();
            refusedByCode.forEach((code, n) -> codes.append(codes.isEmpty() ? "" : ", ").append(code).append(' ').append(n));
            sb.append(" (").append(codes).append(')');
        }
        sb.append(", ").append(unanswered).append(" without an answer");
        return sb.toString();
    }

    /** Why the latest check without an answer had none (null when every check was answered). */
    synchronized String lastProblem() {
        return lastProblem;
    }

    synchronized long allowed() {
        return allowed;
    }

    synchronized long refused() {
        return refused;
    }

    synchronized long unanswered() {
        return unanswered;
    }
}
