package dev.metering.api.auth;

import dev.metering.api.store.ApiKeyRepository;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.jooq.exception.DataAccessException;

/**
 * Bearer tokens to principals, by SHA-256, with a bounded cache of known keys ({@link #TTL}) and
 * of unknown ones ({@link #UNKNOWN_TTL}), so that neither a busy key nor a flood of bad tokens
 * reads PostgreSQL per request. Concurrent look-ups of the same token share one query.
 *
 * <p>Coherence: a revocation or rotation through this instance clears the cache at once; the
 * account cache's change poller invalidates keys changed elsewhere (about a second), and
 * {@link #TTL} bounds staleness if that poller fails. While the database is away (the breaker is
 * open, or a look-up fails), a known key keeps working with what was last read.
 *
 * <p>Last use is recorded in memory at most once per {@link #LAST_USED_EVERY} per key and written
 * by {@link #flushLastUsed()} in the background, never on the request path.
 */
public final class ApiKeyCache {

    public static final Duration TTL = Duration.ofSeconds(30);
    public static final Duration UNKNOWN_TTL = Duration.ofSeconds(60);
    public static final Duration LAST_USED_EVERY = Duration.ofMinutes(1);
    static final int MAX_KNOWN = 100_000;
    static final int MAX_UNKNOWN = 100_000;
    private static final String BOOTSTRAP_ADMIN_ID = "bootstrap-admin";

    /** The answer for a token. */
    public sealed interface Authentication {
    }

    public record Valid(Principal principal) implements Authentication {
    }

    public record Expired(String keyId, Instant expiredAt) implements Authentication {
    }

    public record Unknown() implements Authentication {
    }

    private static final Unknown UNKNOWN = new Unknown();

    private static final class Entry {
        final ApiKeyRepository.StoredKey stored;
        final long loadedAtMillis;
        /** Epoch millis of the last use recorded for writing (or read from the database). */
        final AtomicLong lastUsedMillis;

        Entry(ApiKeyRepository.StoredKey stored, long loadedAtMillis, long lastUsedMillis) {
            this.stored = stored;
            this.loadedAtMillis = loadedAtMillis;
            this.lastUsedMillis = new AtomicLong(lastUsedMillis);
        }
    }

    private final ApiKeyRepository keys;
    private final Clock clock;
    private final BooleanSupplier databaseAway;
    private final byte[] adminTokenHash;
    private final Principal bootstrapAdmin = new Principal(BOOTSTRAP_ADMIN_ID, null, Set.of(Scope.ADMIN));
    private final ConcurrentHashMap<String, Entry> known = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> unknownUntilMillis = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CompletableFuture<Authentication>> inFlight = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Instant> pendingLastUsed = new ConcurrentHashMap<>();
    private final AtomicLong invalidations = new AtomicLong();
    private final Counter lookups;

    /** @param databaseAway true while the database breaker is open: cached keys are then used however old */
    public ApiKeyCache(ApiKeyRepository keys, Clock clock, String adminToken, BooleanSupplier databaseAway,
                       PrometheusRegistry registry) {
        this.keys = keys;
        this.databaseAway = databaseAway;
        this.clock = clock;
        this.adminTokenHash = adminToken == null ? null : ApiKeys.sha256(adminToken);
        this.lookups = Counter.builder().name("metering_api_key_lookups_total")
                .help("API key look-ups that read PostgreSQL (cache misses), by result: found (an unrevoked key) or unknown")
                .labelNames("result").register(registry);
    }

    /**
     * The answer from memory alone (the bootstrap admin, a cached key or a cached unknown token),
     * or null when only the database can tell.
     */
    public Authentication cached(String token) {
        byte[] hash = ApiKeys.sha256(token);
        if (adminTokenHash != null && MessageDigest.isEqual(adminTokenHash, hash)) {
            return new Valid(bootstrapAdmin);
        }
        return cached(hash, HexFormat.of().formatHex(hash));
    }

    private Authentication cached(byte[] hash, String hex) {
        long now = clock.millis();
        Entry e = known.get(hex);
        if (e != null && (now - e.loadedAtMillis < TTL.toMillis() || databaseAway.getAsBoolean())) {
            return answer(e, hash, now);
        }
        Long until = unknownUntilMillis.get(hex);
        if (until != null && now < until) {
            return UNKNOWN;
        }
        return null;
    }

    /** Reads the database for {@code token}; concurrent look-ups of one token share one query. */
    public Authentication lookup(String token) {
        byte[] hash = ApiKeys.sha256(token);
        String hex = HexFormat.of().formatHex(hash);
        CompletableFuture<Authentication> mine = new CompletableFuture<>();
        CompletableFuture<Authentication> other = inFlight.putIfAbsent(hex, mine);
        if (other != null) {
            try {
                return other.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        try {
            // a look-up that finished between the caller's cache miss and now has left its answer
            Authentication a = cached(hash, hex);
            if (a == null) {
                a = load(hash, hex);
            }
            mine.complete(a);
            return a;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(hex, mine);
        }
    }

    private Authentication load(byte[] hash, String hex) {
        long now = clock.millis();
        long before = invalidations.get();
        ApiKeyRepository.StoredKey stored;
        try {
            stored = keys.findUnrevoked(hash).orElse(null);
        } catch (DataAccessException e) {
            Entry last = known.get(hex);
            if (last != null) {
                return answer(last, hash, now);
            }
            throw e;
        }
        lookups.labelValues(stored == null ? "unknown" : "found").inc();
        if (stored == null) {
            if (unknownUntilMillis.size() >= MAX_UNKNOWN) {
                unknownUntilMillis.entrySet().removeIf(u -> u.getValue() <= now);
                if (unknownUntilMillis.size() >= MAX_UNKNOWN / 2) {
                    unknownUntilMillis.clear();
                }
            }
            unknownUntilMillis.put(hex, now + UNKNOWN_TTL.toMillis());
            known.remove(hex);
            return UNKNOWN;
        }
        Entry previous = known.get(hex);
        long lastUsed = Math.max(stored.lastUsedAt() == null ? 0 : stored.lastUsedAt().toEpochMilli(),
                previous == null ? 0 : previous.lastUsedMillis.get());
        Entry e = new Entry(stored, now, lastUsed);
        if (known.size() >= MAX_KNOWN) {
            known.clear();
        }
        known.put(hex, e);
        unknownUntilMillis.remove(hex);
        if (invalidations.get() != before) {
            // an invalidation raced with this read: answer it, but do not keep what may be stale
            known.remove(hex, e);
        }
        return answer(e, hash, now);
    }

    private Authentication answer(Entry e, byte[] hash, long nowMillis) {
        if (!MessageDigest.isEqual(e.stored.hash(), hash)) {
            return UNKNOWN;
        }
        Principal p = e.stored.principal();
        Instant expiresAt = e.stored.expiresAt();
        if (expiresAt != null && nowMillis >= expiresAt.toEpochMilli()) {
            return new Expired(p.keyId(), expiresAt);
        }
        long last = e.lastUsedMillis.get();
        if (nowMillis - last >= LAST_USED_EVERY.toMillis() && e.lastUsedMillis.compareAndSet(last, nowMillis)) {
            pendingLastUsed.merge(p.keyId(), Instant.ofEpochMilli(nowMillis), (a, b) -> a.isAfter(b) ? a : b);
        }
        return new Valid(p);
    }

    /** This instance's latest recorded use of a key not written yet, or null. */
    public Instant pendingLastUse(String keyId) {
        return pendingLastUsed.get(keyId);
    }

    /** Writes the recorded last uses (called periodically and at shutdown). */
    public void flushLastUsed() {
        Map<String, Instant> batch = new HashMap<>();
        for (String id : pendingLastUsed.keySet()) {
            Instant at = pendingLastUsed.remove(id);
            if (at != null) {
                batch.put(id, at);
            }
        }
        try {
            keys.touch(batch);
        } catch (RuntimeException e) {
            // put back for the next flush, keeping the later time of each key
            batch.forEach((id, at) -> pendingLastUsed.merge(id, at, (a, b) -> a.isAfter(b) ? a : b));
            throw e;
        }
    }

    /** Forgets what is cached about the key with this hash (in hex): it changed somewhere. */
    public void invalidate(String hashHex) {
        invalidations.incrementAndGet();
        known.remove(hashHex);
        unknownUntilMillis.remove(hashHex);
    }

    /** Forgets every cached key (after a revocation or rotation through this instance). */
    public void invalidateAll() {
        invalidations.incrementAndGet();
        known.clear();
    }
}
