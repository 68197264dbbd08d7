package dev.metering.api.credit;

import java.math.BigDecimal;
import java.time.Instant;

/** A prepaid credit. {@code expiresAt == null}: never expires. {@code welcomePlanId}: set on welcome credits. */
public record CreditGrant(long id, String orgId, BigDecimal amountUsd, String reason, Instant grantedAt,
                          Instant expiresAt, String welcomePlanId) {

    public boolean isActiveAt(Instant now) {
        return !grantedAt.isAfter(now) && (expiresAt == null || expiresAt.isAfter(now));
    }
}
