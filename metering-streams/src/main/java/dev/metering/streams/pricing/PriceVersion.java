package dev.metering.streams.pricing;

/**
 * One version of a model's price, in nano-USD (1e-9 USD): per 1,000,000 tokens of each kind,
 * and optionally per unit of quantity.
 */
public record PriceVersion(long effectiveFrom, long inputPer1MNanos, long cachedInputPer1MNanos, long outputPer1MNanos,
        Long unitNanos) {
}
