package dev.metering.events.pricing;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * One version of a model's price, in nano-USD (1e-9 USD): per 1,000,000 tokens of each kind,
 * optionally per unit of quantity, plus the price book v2 parts.
 *
 * @param cacheWritePer1MNanos per 1M cache-write tokens; null: cache writes cost the input price
 * @param contextTiers         long-context prices, thresholds strictly ascending (see {@link Cost})
 * @param serviceTiers         exact multipliers by lower-case service tier name
 */
public record PriceVersionNanos(long effectiveFrom, long inputPer1MNanos, long cachedInputPer1MNanos, long outputPer1MNanos,
        Long unitNanos, Long cacheWritePer1MNanos, List<ContextTier> contextTiers, Map<String, BigDecimal> serviceTiers) {

    public PriceVersionNanos {
        contextTiers = List.copyOf(contextTiers);
        serviceTiers = Map.copyOf(serviceTiers);
    }

    /** A version with the three token prices and the unit price only. */
    public PriceVersionNanos(long effectiveFrom, long inputPer1MNanos, long cachedInputPer1MNanos, long outputPer1MNanos,
            Long unitNanos) {
        this(effectiveFrom, inputPer1MNanos, cachedInputPer1MNanos, outputPer1MNanos, unitNanos, null, List.of(), Map.of());
    }

    /** The token prices that apply to a request whose prompt exceeds {@code aboveInputTokens}. */
    public record ContextTier(long aboveInputTokens, long inputPer1MNanos, long cachedInputPer1MNanos,
            Long cacheWritePer1MNanos, long outputPer1MNanos) {
    }
}
