package dev.metering.streams;

import dev.metering.avro.UsageEvent;
import dev.metering.streams.deadletter.Refusal;
import dev.metering.events.pricing.Cost;
import java.math.BigInteger;

/**
 * One event in flight between the stages of {@link MeteringTopology}. It never leaves the
 * process: stages hand it to each other in memory (the only topic in between is the optional
 * re-keying repartition topic, which carries the original bytes, see {@link MeteringTopology}).
 *
 * @param event      the decoded event; null when the record was refused before it could be decoded
 * @param origin     the original record
 * @param refusal    why the record goes to the dead-letter topic; null while it is accepted
 * @param costFemtos the event's exact cost in 1e-15 USD, set by the price stage
 * @param unpriced   true when the event needed a price and none applied (no fallback either)
 * @param priceEffectiveFrom the {@code effectiveFrom} of the price-book version used; {@link #NO_PRICE_VERSION}
 *                   when none was (the producer's cost, no price needed, the fallback rate, unpriced)
 * @param priceContextTier the {@code aboveInputTokens} of the version's context tier that priced the event; null: base prices
 * @param priceServiceTier the service tier whose multiplier applied; null: standard prices
 */
public record MeteredEvent(UsageEvent event, Origin origin, Refusal refusal, BigInteger costFemtos, boolean unpriced,
        long priceEffectiveFrom, Long priceContextTier, String priceServiceTier) {

    /** {@link #priceEffectiveFrom} when no price-book version priced the event. */
    public static final long NO_PRICE_VERSION = Long.MIN_VALUE;

    public static MeteredEvent accepted(UsageEvent event, Origin origin) {
        return new MeteredEvent(event, origin, null, BigInteger.ZERO, false, NO_PRICE_VERSION, null, null);
    }

    public static MeteredEvent refused(UsageEvent event, Origin origin, Refusal refusal) {
        return new MeteredEvent(event, origin, refusal, BigInteger.ZERO, false, NO_PRICE_VERSION, null, null);
    }

    public boolean isRefused() {
        return refusal != null;
    }

    public MeteredEvent refuse(Refusal why) {
        return new MeteredEvent(event, origin, why, costFemtos, unpriced, priceEffectiveFrom, priceContextTier,
                priceServiceTier);
    }

    /** Priced without a price-book version. */
    public MeteredEvent priced(BigInteger femtos, boolean isUnpriced) {
        return new MeteredEvent(event, origin, refusal, femtos, isUnpriced, NO_PRICE_VERSION, null, null);
    }

    /** Priced by the price-book version in force since {@code effectiveFrom}, as {@code quote} says. */
    public MeteredEvent pricedBy(Cost.Quote quote, long effectiveFrom) {
        return new MeteredEvent(event, origin, refusal, quote.femtos(), false, effectiveFrom, quote.contextTier(),
                quote.serviceTier());
    }
}
