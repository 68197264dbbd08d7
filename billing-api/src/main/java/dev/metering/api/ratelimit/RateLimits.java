package dev.metering.api.ratelimit;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API's rate limits in this instance's memory: a token bucket per key for each budget, and
 * one per client address for failed authentications. Waits are in nanoseconds, 0 meaning go on.
 * The maps are bounded: past {@link #MAX_BUCKETS} entries the full buckets (which hold nothing a
 * new one would not) are dropped, and if that is not enough, all of them.
 */
public final class RateLimits {

    /** Which budget a request draws on. */
    public enum Budget {
        /** Every route but the two below. */
        GENERAL("key"),
        /** Checks and reservations: called per end-user action, so a far larger budget. */
        CHECK("check");

        private final String label;

        Budget(String label) {
            this.label = label;
        }
    }

    static final int MAX_BUCKETS = 100_000;

    private final RateLimitSettings settings;
    private final Clock clock;
    private final ConcurrentHashMap<String, TokenBucket> general = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, TokenBucket> checks = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, TokenBucket> failedAuth = new ConcurrentHashMap<>();
    private final Counter limited;

    public RateLimits(RateLimitSettings settings, Clock clock, PrometheusRegistry registry) {
        this.settings = settings;
        this.clock = clock;
        this.limited = Counter.builder().name("metering_api_rate_limited_total")
                .help("Requests answered 429 by the API's own rate limits: key (general budget), check, failed_auth")
                .labelNames("limit").register(registry);
    }

    public RateLimitSettings settings() {
        return settings;
    }

    /** Takes a token of {@code budget} for this key: 0, or how long until one is available. */
    public long takeForKey(String keyId, Budget budget) {
        boolean check = budget == Budget.CHECK;
        long rate = check ? settings.checkRate() : settings.rate();
        if (rate == 0) {
            return 0;
        }
        long now = nowNanos();
        long burst = check ? settings.checkBurst() : settings.burst();
        long wait = bucket(check ? checks : general, keyId, rate, Duration.ofSeconds(1), burst, now).take(now);
        if (wait > 0) {
            limited.labelValues(budget.label).inc();
        }
        return wait;
    }

    /** How long until this address may fail authentication again (0: now), taking nothing. */
    public long failedAuthWait(String address) {
        if (settings.failedAuthPerMinute() == 0) {
            return 0;
        }
        TokenBucket b = failedAuth.get(address);
        long wait = b == null ? 0 : b.waitNanos(nowNanos());
        if (wait > 0) {
            limited.labelValues("failed_auth").inc();
        }
        return wait;
    }

    /** Counts a failed authentication from this address. */
    public void failedAuth(String address) {
        long perMinute = settings.failedAuthPerMinute();
        if (perMinute == 0) {
            return;
        }
        long now = nowNanos();
        bucket(failedAuth, address, perMinute, Duration.ofMinutes(1), perMinute, now).take(now);
    }

    private static TokenBucket bucket(ConcurrentHashMap<String, TokenBucket> buckets, String id, long tokens,
                                      Duration period, long burst, long now) {
        TokenBucket b = buckets.get(id);
        if (b != null) {
            return b;
        }
        if (buckets.size() >= MAX_BUCKETS) {
            buckets.values().removeIf(x -> x.isFull(now));
            if (buckets.size() >= MAX_BUCKETS / 2) {
                buckets.clear();
            }
        }
        return buckets.computeIfAbsent(id, k -> new TokenBucket(tokens, period, burst, now));
    }

    private long nowNanos() {
        Instant t = clock.instant();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    /** Whole seconds to wait, at least 1: the {@code Retry-After} of a 429. */
    public static long retryAfterSeconds(long waitNanos) {
        return Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
    }
}
