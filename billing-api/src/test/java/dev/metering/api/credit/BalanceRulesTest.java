package dev.metering.api.credit;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class BalanceRulesTest {

    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");

    private static CreditGrant grant(long id, String amount, String at, String expires) {
        return new CreditGrant(id, "acme", new BigDecimal(amount), "t", Instant.parse(at),
                expires == null ? null : Instant.parse(expires), null);
    }

    @Test
    void shouldSubtractUsageSinceTheHourOfTheOldestActiveGrant() {
        List<CreditGrant> grants = List.of(grant(1, "10", "2026-11-20T09:15:00Z", null),
                grant(2, "5", "2026-11-22T18:00:00Z", null));
        assertThat(BalanceRules.usageSince(grants, NOW)).hasValue(Instant.parse("2026-11-20T09:00:00Z"));
        Balance b = BalanceRules.balance("acme", grants, new BigDecimal("12.5"), NOW);
        assertThat(b.grantedUsd()).isEqualByComparingTo("15");
        assertThat(b.usedUsd()).isEqualByComparingTo("12.5");
        assertThat(b.balanceUsd()).isEqualByComparingTo("2.5");
    }

    @Test
    void shouldForgetExpiredGrantsAndTheUsageTheyCovered() {
        List<CreditGrant> grants = List.of(grant(1, "10", "2026-11-01T00:00:00Z", "2026-11-21T00:00:00Z"),
                grant(2, "5", "2026-11-21T12:00:00Z", null));
        assertThat(BalanceRules.usageSince(grants, NOW)).hasValue(Instant.parse("2026-11-21T12:00:00Z"));
        assertThat(BalanceRules.balance("acme", grants, new BigDecimal("1"), NOW).balanceUsd()).isEqualByComparingTo("4");
    }

    @Test
    void shouldHaveZeroBalanceWithoutActiveGrants() {
        Balance b = BalanceRules.balance("acme", List.of(grant(1, "10", "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")),
                new BigDecimal("3"), NOW);
        assertThat(b.balanceUsd()).isEqualByComparingTo("0");
        assertThat(BalanceRules.segments(List.of(), NOW)).isEmpty();
    }
}
