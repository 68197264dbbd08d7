package dev.metering.api.usage;

import dev.metering.api.plan.Meter;
import java.math.BigDecimal;

/** Sums of the aggregate columns (docs/contract.md, PostgreSQL) over some windows. Money is exact. */
public record UsageTotals(long events, long quantity, long inputTokens, long outputTokens,
                          long cachedInputTokens, BigDecimal costUsd, long cacheWriteTokens) {

    public static final UsageTotals ZERO = new UsageTotals(0, 0, 0, 0, 0, BigDecimal.ZERO);

    /** Totals without cache-write tokens. */
    public UsageTotals(long events, long quantity, long inputTokens, long outputTokens, long cachedInputTokens,
                       BigDecimal costUsd) {
        this(events, quantity, inputTokens, outputTokens, cachedInputTokens, costUsd, 0);
    }

    public UsageTotals plus(UsageTotals o) {
        return new UsageTotals(events + o.events, quantity + o.quantity, inputTokens + o.inputTokens,
                outputTokens + o.outputTokens, cachedInputTokens + o.cachedInputTokens, costUsd.add(o.costUsd),
                cacheWriteTokens + o.cacheWriteTokens);
    }

    public BigDecimal value(Meter meter) {
        switch (meter) {
            case EVENTS: return BigDecimal.valueOf(events);
            case QUANTITY: return BigDecimal.valueOf(quantity);
            case INPUT_TOKENS: return BigDecimal.valueOf(inputTokens);
            case OUTPUT_TOKENS: return BigDecimal.valueOf(outputTokens);
            case TOKENS: return BigDecimal.valueOf(inputTokens + cachedInputTokens + cacheWriteTokens + outputTokens);
            default: return costUsd;
        }
    }
}
