package dev.metering.api.check;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/** The decision of a check (DESIGN §7.1). */
public record CheckResult(
        String orgId,
        String feature,
        boolean allowed,
        String code,
        String message,
        int suggestedStatus,
        Long retryAfterSeconds,
        EnforcementMode mode,
        boolean wouldBlock,
        String planId,
        List<LimitStatus> limits,
        BigDecimal balanceUsd,
        Instant usageAsOf,
        boolean stale) {
}
