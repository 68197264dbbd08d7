package dev.metering.api.price;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * One version of a model's list price (a row of {@code metering.model_prices}): USD per 1 million
 * tokens, exact, at most 9 decimals; {@code unitUsd} optional (price of one unit of quantity).
 */
public record PriceVersion(String provider, String model, Instant effectiveFrom, BigDecimal inputPer1mUsd,
                           BigDecimal cachedInputPer1mUsd, BigDecimal outputPer1mUsd, BigDecimal unitUsd) {

    /** The price topic's key, as the streams PriceBook looks it up. */
    public String key() {
        return provider + "/" + model;
    }
}
