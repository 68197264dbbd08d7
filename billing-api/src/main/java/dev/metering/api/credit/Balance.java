package dev.metering.api.credit;

import java.math.BigDecimal;

/** balance = grantedUsd - usedUsd (DESIGN §7.4). */
public record Balance(String orgId, BigDecimal balanceUsd, BigDecimal grantedUsd, BigDecimal usedUsd) {
}
