package dev.metering.streams.eventlog;

import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageEvent;
import dev.metering.streams.MeteredEvent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Instant;

/**
 * The event log's record of one counted event ({@code metering.usage.priced}, docs/contract.md, Topics): the
 * event's own fields, its exact cost in femto-USD as folded into the totals, that cost rounded
 * once to nano-USD (half-even) for the per-event view, and the price-book version that priced it
 * (its {@code effectiveFrom}, the context tier and the service tier applied).
 */
public final class PricedEvents {

    private static final BigInteger FEMTOS_PER_NANO = BigInteger.valueOf(1_000_000L);

    private PricedEvents() {
    }

    public static PricedUsageEvent of(MeteredEvent in) {
        UsageEvent e = in.event();
        long effectiveFrom = in.priceEffectiveFrom();
        return new PricedUsageEvent(e.getEventId(), e.getOrgId(), e.getOccurredAt(), e.getFeature(), e.getUserId(),
                e.getConversationId(), e.getProvider(), e.getModel(), e.getSource(), e.getQuantity(), e.getInputTokens(),
                e.getOutputTokens(), e.getCachedInputTokens(), nanos(in.costFemtos()), new BigDecimal(in.costFemtos()),
                !in.unpriced(), effectiveFrom == MeteredEvent.NO_PRICE_VERSION ? null : Instant.ofEpochMilli(effectiveFrom),
                e.getAttributes(), e.getCacheWriteTokens(), e.getReasoningTokens(), e.getServiceTier(), in.priceContextTier(),
                in.priceServiceTier());
    }

    /** Femto-USD to nano-USD, rounded half-even. */
    static long nanos(BigInteger femtos) {
        return new BigDecimal(femtos).divide(new BigDecimal(FEMTOS_PER_NANO), 0, RoundingMode.HALF_EVEN).longValueExact();
    }
}
