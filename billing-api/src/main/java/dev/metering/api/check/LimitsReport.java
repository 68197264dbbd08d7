package dev.metering.api.check;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/** Every limit of an org's plan with its current usage (docs/contract.md, HTTP API "limits"). */
public record LimitsReport(String orgId, String planId, Instant periodStart, Instant periodEnd,
                           List<LimitStatus> limits, BigDecimal balanceUsd, Instant usageAsOf) {
}
