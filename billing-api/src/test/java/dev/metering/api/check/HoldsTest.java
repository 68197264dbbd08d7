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

    private static Holds timed(Holds.TimedHold... holds) {
        List<Holds.TimedHold> list = List.of(holds);
        return new Holds(list.stream().map(Holds.TimedHold::hold).toList(), () -> list);
    }

    private static Holds.TimedHold expiring(long quantity, String at, boolean settled) {
        return new Holds.TimedHold(hold("CHAT_MESSAGE", null, quantity, "0"), Instant.parse(at), settled);
    }

    @Test
    void shouldAnswerTheRetryTimeWhenEnoughHoldsExpireBeforeTheReset() {
        usage.messages("acme", "", Instant.parse("2026-11-22T10:00:00Z"), 6);
        // 6 used + 4 held of 10: room for one once a hold of 1 expires (18:31), not before
        Holds holds = timed(expiring(1, "2026-11-22T18:31:00Z", false), expiring(3, "2026-11-22T18:40:00Z", false));
        CheckRequest one = new CheckRequest("acme", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "carl", null);
        CheckResult refused = evaluator.check(one, Accounts.on(CATALOG).build(), usage, holds, Freshness.fresh(NOW), NOW);
        assertThat(refused.code()).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
        assertThat(refused.retryAfterSeconds()).isEqualTo(60L);
        CheckRequest two = new CheckRequest("acme", "CHAT_MESSAGE", 2, 0, BigDecimal.ZERO, "carl", null);
        assertThat(evaluator.check(two, Accounts.on(CATALOG).build(), usage, holds, Freshness.fresh(NOW), NOW)
                .retryAfterSeconds()).as("both holds must expire").isEqualTo(600L);
    }

    @Test
    void shouldAnswerTheRetryTimeFromHoldsInAnyOrder() {
        usage.messages("acme", "", Instant.parse("2026-11-22T10:00:00Z"), 4);
        // 4 used + 10 held of 10; the settled hold expires first but leaves with the usage at midnight
        Holds holds = timed(expiring(4, "2026-11-22T18:50:00Z", false), expiring(3, "2026-11-22T18:35:00Z", true),
                expiring(2, "2026-11-22T19:00:00Z", false), expiring(1, "2026-11-22T18:40:00Z", false));
        CheckRequest one = new CheckRequest("acme", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "carl", null);
        assertThat(evaluator.check(one, Accounts.on(CATALOG).build(), usage, holds, Freshness.fresh(NOW), NOW)
                .retryAfterSeconds()).as("5 must leave: the holds of 18:40 and 18:50").isEqualTo(1200L);
        CheckRequest four = new CheckRequest("acme", "CHAT_MESSAGE", 4, 0, BigDecimal.ZERO, "carl", null);
        assertThat(evaluator.check(four, Accounts.on(CATALOG).build(), usage, holds, Freshness.fresh(NOW), NOW)
                .retryAfterSeconds()).as("8 must leave: the usage and the settled hold too").isEqualTo(5L * 3600 + 30 * 60);
    }

    @Test
    void shouldNotCountASettledHoldAsFreedBeforeTheWindowResets() {
        usage.messages("acme", "", Instant.parse("2026-11-22T10:00:00Z"), 6);
        // the settled hold becomes usage of today: it leaves at midnight, like the usage
        Holds holds = timed(expiring(4, "2026-11-22T18:31:00Z", true));
        CheckRequest one = new CheckRequest("acme", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "carl", null);
        assertThat(evaluator.check(one, Accounts.on(CATALOG).build(), usage, holds, Freshness.fresh(NOW), NOW)
                .retryAfterSeconds()).isEqualTo(5L * 3600 + 30 * 60);
    }

    @Test
    void shouldWaitPastTheResetForHoldsThatOutliveIt() {
        // nothing used; 10 held until 02:00 tomorrow: the reset at midnight frees nothing
        Holds holds = timed(expiring(10, "2026-11-23T02:00:00Z", false));
        CheckRequest one = new CheckRequest("acme", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "carl", null);
        CheckResult refused = evaluator.check(one, Accounts.on(CATALOG).build(), usage, holds, Freshness.fresh(NOW), NOW);
        assertThat(refused.retryAfterSeconds()).isEqualTo(7L * 3600 + 30 * 60);
    }
}
