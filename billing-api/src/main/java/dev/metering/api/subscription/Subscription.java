package dev.metering.api.subscription;

import dev.metering.api.check.EnforcementMode;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * An org's subscription: its plan, status, billing period, seats, per-limit overrides (the
 * override replaces the limit's {@code max}; {@code perSeat} still multiplies it) and an optional
 * enforcement mode override.
 */
public record Subscription(
        String orgId,
        String planId,
        SubscriptionStatus status,
        Instant periodStart,
        Instant periodEnd,
        int seats,
        Map<String, BigDecimal> overrides,
        EnforcementMode enforcement,
        Instant updatedAt) {

    public Subscription {
        Objects.requireNonNull(orgId, "orgId");
        Objects.requireNonNull(planId, "planId");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(periodStart, "periodStart");
        Objects.requireNonNull(periodEnd, "periodEnd");
        overrides = overrides == null ? Map.of() : Map.copyOf(overrides);
    }
}
