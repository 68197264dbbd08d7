package dev.metering.api.check;

import dev.metering.api.plan.PlanLimit;
import java.math.BigDecimal;
import java.time.Instant;

/**
 * One limit's state for a check or the limits report. {@code limit} is the effective maximum
 * (override, times seats when perSeat). {@code held}: live reservation holds against it;
 * {@code remaining} is what neither usage nor holds take. {@code exceeded}: this request would go
 * over it (or, for a zero request, the limit is used up).
 */
public record LimitStatus(PlanLimit definition, BigDecimal limit, BigDecimal used, BigDecimal remaining,
                          Instant windowStart, Instant resetsAt, boolean exceeded, BigDecimal held) {

    public LimitStatus {
        held = held == null ? BigDecimal.ZERO : held;
    }

    /** Without holds. */
    public LimitStatus(PlanLimit definition, BigDecimal limit, BigDecimal used, BigDecimal remaining,
                       Instant windowStart, Instant resetsAt, boolean exceeded) {
        this(definition, limit, used, remaining, windowStart, resetsAt, exceeded, BigDecimal.ZERO);
    }
}
