package dev.metering.api.credit;

import java.math.BigDecimal;

/** balance = grantedUsd - usedUsd (docs/contract.md, HTTP API). */
public record Balance(String orgId, BigDecimal balanceUsd, BigDecimal grantedUsd, BigDecimal usedUsd) {
}
