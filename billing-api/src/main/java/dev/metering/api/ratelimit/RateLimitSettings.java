package dev.metering.api.ratelimit;

import dev.metering.events.config.ConfigSource;

/**
 * The API's own rate limits (docs/contract.md, Rate limits), per instance. A rate of 0 turns that
 * limit off.
 *
 * @param rate              {@code METERING_API_RATE_LIMIT_RATE}: requests per second per key on every
 *                          route but ingest, checks and reservations, default 100
 * @param burst             {@code METERING_API_RATE_LIMIT_BURST}: bucket size of that budget, default 200
 * @param checkRate         {@code METERING_API_RATE_LIMIT_CHECK_RATE}: ingest, check and reservation calls
 *                          per second per key, default 5000
 * @param checkBurst        {@code METERING_API_RATE_LIMIT_CHECK_BURST}: default 10000
 * @param failedAuthPerMinute {@code METERING_API_RATE_LIMIT_FAILED_AUTH_PER_MINUTE}: failed
 *                          authentications per client address per minute (also the burst), default 20
 */
public record RateLimitSettings(long rate, long burst, long checkRate, long checkBurst, long failedAuthPerMinute) {

    public static final RateLimitSettings DEFAULTS = new RateLimitSettings(100, 200, 5_000, 10_000, 20);
    public static final RateLimitSettings OFF = new RateLimitSettings(0, 1, 0, 1, 0);
    private static final long MAX = 1_000_000_000L;

    public static RateLimitSettings from(ConfigSource source) {
        return new RateLimitSettings(
                source.longInRange("METERING_API_RATE_LIMIT_RATE", DEFAULTS.rate, 0, MAX),
                source.longInRange("METERING_API_RATE_LIMIT_BURST", DEFAULTS.burst, 1, MAX),
                source.longInRange("METERING_API_RATE_LIMIT_CHECK_RATE", DEFAULTS.checkRate, 0, MAX),
                source.longInRange("METERING_API_RATE_LIMIT_CHECK_BURST", DEFAULTS.checkBurst, 1, MAX),
                source.longInRange("METERING_API_RATE_LIMIT_FAILED_AUTH_PER_MINUTE", DEFAULTS.failedAuthPerMinute, 0,
                        1_000_000));
    }

    @Override
    public String toString() {
        return "rate=" + rate + "/s burst=" + burst + " checkRate=" + checkRate + "/s checkBurst=" + checkBurst
                + " failedAuthPerMinute=" + failedAuthPerMinute;
    }
}
