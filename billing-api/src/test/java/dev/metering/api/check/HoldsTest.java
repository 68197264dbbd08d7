package dev.metering.api.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.usage.InMemoryUsage;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Checks count {@code used + held + requested}: holds fall under the limits of their feature and dimensions. */
class HoldsTest {

    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");
    private static final PlanCatalog CATALOG = CatalogParser.parse("""
            defaultPlan: basic
            plans:
              - id: basic
                limits:
                  - { id: day, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 10 }
                  - { id: user-day, feature: CHAT_MESSAGE, meter: quantity, window: day, scope: user, max: 4 }
                  - { id: spend, meter: cost_usd, window: month, max: "1.00" }
              - id: prepaid
                prepaid: true
                minBalanceUsd: "0"
            """, CatalogParser.Format.YAML);
    private final InMemoryUsage usage = new InMemoryUsage();
    private final CheckEvaluator evaluator = new CheckEvaluator(new ModePolicy(EnforcementMode.ENFORCE, 0),
            StalePolicy.FAIL_OPEN);

    private static Holds.Hold hold(String feature, String user, long quantity, String cost) {
        return new Holds.Hold(feature, user, null, quantity, 0, new BigDecimal(cost));
    }

    @Test
    void shouldCountHeldAmountsAgainstTheLimitsTheyFallUnder() {
        usage.messages("acme", "ann", Instant.parse("2026-11-22T10:00:00Z"), 5);
        Holds holds = new Holds(List.of(hold("CHAT_MESSAGE", "ann", 2, "0.30"), hold("CHAT_MESSAGE", "bob", 1, "0"),
                hold("AI_COMPLETION", "ann", 7, "0.50")));
        LimitsReport r = evaluator.limits(Accounts.on(CATALOG).build(), "ann", usage, holds, Freshness.fresh(NOW), NOW);
        assertThat(r.limits()).extracting(l -> l.definition().id(), LimitStatus::used, LimitStatus::held,
                        LimitStatus::remaining)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("day", new BigDecimal(5), new BigDecimal(3), new BigDecimal(2)),
                        org.assertj.core.groups.Tuple.tuple("user-day", new BigDecimal(5), new BigDecimal(2), BigDecimal.ZERO),
                        org.assertj.core.groups.Tuple.tuple("spend", new BigDecimal("0"), new BigDecimal("0.80"),
                                new BigDecimal("0.20")));
    }

    @Test
    void shouldRefuseWhenUsedPlusHeldPlusRequestedExceedsTheLimit() {
        usage.messages("acme", "", Instant.parse("2026-11-22T10:00:00Z"), 8);
        Holds oneHeld = new Holds(List.of(hold("CHAT_MESSAGE", null, 1, "0")));
        CheckRequest one = new CheckRequest("acme", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "carl", null);
        assertThat(evaluator.check(one, Accounts.on(CATALOG).build(), usage, oneHeld, Freshness.fresh(NOW), NOW)
                .allowed()).isTrue();
        Holds twoHeld = new Holds(List.of(hold("CHAT_MESSAGE", null, 2, "0")));
        CheckResult refused = evaluator.check(one, Accounts.on(CATALOG).build(), usage, twoHeld, Freshness.fresh(NOW),
                NOW);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.code()).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
        assertThat(refused.message()).startsWith("Limit day reached: 8 (and 2 held) of 10 quantity used");
    }

    @Test
    void shouldHoldPrepaidBalance() {
        Accounts prepaid = Accounts.on(CATALOG).plan("prepaid").grant("1.00", "2026-11-01T00:00:00Z");
        CheckRequest tenCents = new CheckRequest("acme", "AI_COMPLETION", 1, 0, new BigDecimal("0.10"), null, null);
        Holds ninety = new Holds(List.of(hold("AI_COMPLETION", null, 9, "0.90")));
        assertThat(evaluator.check(tenCents, prepaid.build(), usage, ninety, Freshness.fresh(NOW), NOW).allowed())
                .isTrue();
        Holds ninetyOne = new Holds(List.of(hold("AI_COMPLETION", null, 9, "0.91")));
        CheckResult refused = evaluator.check(tenCents, prepaid.build(), usage, ninetyOne, Freshness.fresh(NOW), NOW);
        assertThat(refused.code()).isEqualTo("INSUFFICIENT_BALANCE");
        assertThat(refused.balanceUsd()).as("the balance itself is not reduced by holds").isEqualByComparingTo("1.00");
    }
}
