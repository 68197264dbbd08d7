package dev.metering.api.price;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One version of a model's list price (a row of {@code metering.model_prices}): USD per 1 million
 * tokens, exact, at most 9 decimals; {@code unitUsd} optional (price of one unit of quantity).
 * Price book v2: {@code cacheWritePer1mUsd} optional (absent: cache writes cost the input price),
 * {@code contextTiers} by strictly ascending threshold, {@code serviceTiers} by name.
 */
public record PriceVersion(String provider, String model, Instant effectiveFrom, BigDecimal inputPer1mUsd,
                           BigDecimal cachedInputPer1mUsd, BigDecimal outputPer1mUsd, BigDecimal unitUsd,
                           BigDecimal cacheWritePer1mUsd, List<ContextTier> contextTiers,
                           Map<String, BigDecimal> serviceTiers) {

    /** The service tiers a version may name (the standard tier is the version's own prices). */
    public static final Set<String> SERVICE_TIERS = Set.of("batch", "flex", "priority");

    public PriceVersion {
        contextTiers = contextTiers == null ? List.of() : List.copyOf(contextTiers);
        serviceTiers = serviceTiers == null ? Map.of() : Map.copyOf(serviceTiers);
    }

    /** A version with the three token prices and the unit price only. */
    public PriceVersion(String provider, String model, Instant effectiveFrom, BigDecimal inputPer1mUsd,
                        BigDecimal cachedInputPer1mUsd, BigDecimal outputPer1mUsd, BigDecimal unitUsd) {
        this(provider, model, effectiveFrom, inputPer1mUsd, cachedInputPer1mUsd, outputPer1mUsd, unitUsd, null, List.of(),
                Map.of());
    }

    /** The price topic's key, as the streams PriceBook looks it up. */
    public String key() {
        return provider + "/" + model;
    }

    /**
     * The prices of a request whose prompt (input + cached input + cache-write tokens) is above
     * {@code aboveInputTokens}; {@code cacheWritePer1mUsd} is given on the version and all its
     * tiers, or on none.
     */
    public record ContextTier(long aboveInputTokens, BigDecimal inputPer1mUsd, BigDecimal cachedInputPer1mUsd,
                              BigDecimal cacheWritePer1mUsd, BigDecimal outputPer1mUsd) {
    }
}
