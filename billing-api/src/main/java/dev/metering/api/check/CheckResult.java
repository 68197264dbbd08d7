package dev.metering.api.check;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * The decision of a check (docs/contract.md, Check). {@code constraining}: the limit the RateLimit headers
 * describe (the blocking one that frees last, else the one with the smallest share left; null
 * without limits). {@code warnings}: limits that could not be evaluated (a missing dimension).
 */
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
        boolean stale,
        LimitStatus constraining,
        List<String> warnings) {

    public CheckResult {
        warnings = warnings == null ? List.of() : warnings;
    }
}
