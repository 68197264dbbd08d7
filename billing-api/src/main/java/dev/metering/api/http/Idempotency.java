package dev.metering.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.api.ApiException;
import dev.metering.api.auth.Principal;
import dev.metering.api.bulk.ImportBodies;
import dev.metering.api.store.IdempotencyRepository;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Idempotency-Key} on the POSTs that create something (Stripe's rules), as a before and an
 * after handler around those routes:
 * <ul>
 * <li>the first request with a key (per calling API key) runs; a 2xx answer is stored for 24 h and
 * a repeat of the same request (method, path with query, body) gets it again with
 * {@code Idempotent-Replayed: true}, without running; a non-2xx answer stores nothing and releases
 * the key, so a retry runs again;</li>
 * <li>the same key with another request: 409 {@code IDEMPOTENCY_KEY_REUSED}; while the first
 * request still runs: 409 {@code IDEMPOTENCY_KEY_IN_PROGRESS} (retry later);</li>
 * <li>secrets shown once (an API key's {@code key}, a webhook's {@code secret}) are not stored: a
 * replay answers them as null.</li>
 * </ul>
 * Without the header nothing changes. Dry runs ({@code dryRun=true}) change nothing, so they
 * ignore it.
 */
public final class Idempotency {

    public static final String HEADER = "Idempotency-Key";
    public static final String REPLAYED = "Idempotent-Replayed";
    static final int MAX_KEY_LENGTH = 255;
    private static final Pattern KEY = Pattern.compile("[\\x21-\\x7E]{1," + MAX_KEY_LENGTH + "}");
    static final Duration TTL = Duration.ofHours(24);
    /** Longer than any request runs: a claim older than this belongs to an instance that died. */
    static final Duration LEASE = Duration.ofMinutes(5);
    private static final String CLAIM = "metering.idempotencyClaim";
    private static final Logger log = LoggerFactory.getLogger(Idempotency.class);

    /** A creating POST route, and the fields of its answer that must not be stored. */
    record Route(String path, Set<String> secretFields) {
    }

    static final List<Route> ROUTES = List.of(
            new Route("/api/v1/orgs/{orgId}/credits", Set.of()),
            new Route("/api/v1/api-keys", Set.of("key")),
            new Route("/api/v1/subscriptions/import", Set.of()),
            new Route("/api/v1/credits/import", Set.of()),
            new Route("/api/v1/webhooks", Set.of("secret")));

    private record Held(String keyId, String key) {
    }

    private final IdempotencyRepository repository;
    private final Auth auth;
    private final ObjectMapper mapper;
    private final Clock clock;

    Idempotency(IdempotencyRepository repository, Auth auth, ObjectMapper mapper, Clock clock) {
        this.repository = repository;
        this.auth = auth;
        this.mapper = mapper;
        this.clock = clock;
    }

    /** Registers the handlers; after every other before handler (body bounds come first). */
    void register(Javalin app) {
        for (Route r : ROUTES) {
            app.before(r.path(), this::before);
            app.after(r.path(), ctx -> after(ctx, r));
        }
    }

    private void before(Context ctx) throws IOException {
        String key = ctx.header(HEADER);
        if (ctx.method() != HandlerType.POST || key == null || "true".equals(ctx.queryParam("dryRun"))) {
            return;
        }
        Principal p = auth.authenticate(ctx);
        if (!KEY.matcher(key).matches()) {
            throw ApiException.badRequest(HEADER, "must be 1-" + MAX_KEY_LENGTH
                    + " printable ASCII characters without spaces (e.g. a UUID)");
        }
        byte[] hash = hash(ctx);
        IdempotencyRepository.Claim claim = repository.claim(p.keyId(), key, hash, clock.instant(), TTL, LEASE);
        if (claim instanceof IdempotencyRepository.Replay replay) {
            ctx.status(replay.status()).header(REPLAYED, "true").contentType("application/json")
                    .result(replay.body() == null ? "" : replay.body());
            ctx.skipRemainingHandlers();
        } else if (claim instanceof IdempotencyRepository.Reused) {
            throw new ApiException(409, "IDEMPOTENCY_KEY_REUSED", HEADER,
                    "this Idempotency-Key was used for a different request in the last 24 h; use a new key");
        } else if (claim instanceof IdempotencyRepository.InProgress) {
            throw new ApiException(409, "IDEMPOTENCY_KEY_IN_PROGRESS", HEADER,
                    "a request with this Idempotency-Key is still being processed; retry shortly");
        } else {
            ctx.attribute(CLAIM, new Held(p.keyId(), key));
        }
    }

    private void after(Context ctx, Route route) throws IOException {
        Held held = ctx.attribute(CLAIM);
        if (held == null) {
            return;
        }
        ctx.attribute(CLAIM, null);
        try {
            int status = ctx.statusCode();
            if (status < 200 || status > 299) {
                repository.release(held.keyId(), held.key());
                return;
            }
            InputStream result = ctx.resultInputStream();
            byte[] body = result == null ? new byte[0] : result.readAllBytes();
            ctx.result(body);
            repository.complete(held.keyId(), held.key(), status, stored(body, route.secretFields()));
        } catch (RuntimeException e) {
            // the change is made and answered; the claim stays in progress until its lease runs out
            log.warn("could not store the answer of {} {} for its Idempotency-Key: {}", ctx.method(), ctx.path(),
                    e.toString());
        }
    }

    /** The answer as stored: secrets shown once are replaced by null. */
    private String stored(byte[] body, Set<String> secretFields) throws IOException {
        if (secretFields.isEmpty() || body.length == 0) {
            return new String(body, StandardCharsets.UTF_8);
        }
        JsonNode json = mapper.readTree(body);
        if (json instanceof ObjectNode o) {
            secretFields.stream().filter(o::has).forEach(o::putNull);
        }
        return mapper.writeValueAsString(json);
    }

    /**
     * SHA-256 of method, path with query and body. Import bodies are read here, bounded, and kept
     * for the handler ({@link ImportBodies#read}); other bodies are Javalin's cached ones.
     */
    private static byte[] hash(Context ctx) throws IOException {
        byte[] body = ctx.path().endsWith("/import") ? ImportBodies.buffer(ctx) : ctx.bodyAsBytes();
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String query = ctx.queryString();
        sha.update((ctx.method().name() + " " + ctx.path() + (query == null ? "" : "?" + query) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        sha.update(body);
        return sha.digest();
    }
}
