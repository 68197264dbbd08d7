package dev.metering.api.credit;

import dev.metering.api.usage.Segments;
import dev.metering.api.usage.UsageSegment;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * How usage is attributed to credit grants:
 * <ul>
 *   <li>{@code grantedUsd} = the sum of the grants active now (granted, not expired);</li>
 *   <li>{@code usedUsd} = the org's priced usage (cost_usd of every feature) from the start of the
 *       hour in which the <em>oldest active grant</em> was made, until now. The hour is the finest
 *       grain stored; including the grant's whole hour errs towards never giving usage away free;</li>
 *   <li>{@code balanceUsd} = grantedUsd - usedUsd, which may be negative (debt carries over to
 *       newer grants while the grant it was run up under is still active).</li>
 * </ul>
 * Usage before the oldest active grant was paid by grants that have since expired (or was free).
 * When a grant expires, what it did not cover is forfeited with it. No active grant: balance 0.
 */
public final class BalanceRules {

    private BalanceRules() {
    }

    public static Optional<Instant> usageSince(List<CreditGrant> grants, Instant now) {
        return grants.stream().filter(g -> g.isActiveAt(now)).map(CreditGrant::grantedAt)
                .min(Comparator.naturalOrder()).map(t -> t.truncatedTo(ChronoUnit.HOURS));
    }

    /** Segments holding the usage to subtract; empty when there is no active grant. */
    public static List<UsageSegment> segments(List<CreditGrant> grants, Instant now) {
        return usageSince(grants, now)
                .map(since -> Segments.decompose(since, now.truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS),
                        null, null))
                .orElse(List.of());
    }

    public static Balance balance(String orgId, List<CreditGrant> grants, BigDecimal usedUsd, Instant now) {
        BigDecimal granted = grants.stream().filter(g -> g.isActiveAt(now)).map(CreditGrant::amountUsd)
                .reduce(BigDecimal.ZERO, BigDecimal::add);
        BigDecimal used = usageSince(grants, now).isPresent() ? usedUsd : BigDecimal.ZERO;
        return new Balance(orgId, granted.subtract(used), granted, used);
    }
}
