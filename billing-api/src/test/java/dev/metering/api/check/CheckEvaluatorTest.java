package dev.metering.api.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.subscription.SubscriptionStatus;
import dev.metering.api.usage.InMemoryUsage;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CheckEvaluatorTest {

    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");
    private static final PlanCatalog CATALOG = CatalogParser.parse("""
            defaultPlan: basic
            plans:
              - id: basic
                features: [CHAT_MESSAGE, AI_COMPLETION]
                limits:
                  - { id: five-hours, feature: CHAT_MESSAGE, meter: quantity, window: "rolling:5h", max: 10 }
                  - { id: week, meter: tokens, window: "rolling:7d", max: 1000 }
                  - { id: soft-day, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 3, enforcement: soft }
            """, CatalogParser.Format.YAML);
    private final InMemoryUsage usage = new InMemoryUsage();

    private static CheckEvaluator evaluator(EnforcementMode mode, StalePolicy policy) {
        return new CheckEvaluator(new ModePolicy(mode, 0), policy);
    }

    private CheckResult check(CheckEvaluator e, Accounts account, Freshness f) {
        return e.check(CheckRequest.of("acme", "CHAT_MESSAGE"), account.build(), usage, f, NOW);
    }

    @Test
    void shouldCountOnlyTheLastFiveHoursForARollingWindow() {
        usage.messages("acme", "", Instant.parse("2026-11-22T13:59:00Z"), 100)
                .messages("acme", "", Instant.parse("2026-11-22T14:00:00Z"), 4)
                .messages("acme", "", Instant.parse("2026-11-22T18:29:00Z"), 5);
        CheckResult r = check(evaluator(EnforcementMode.ENFORCE, StalePolicy.FAIL_OPEN), Accounts.on(CATALOG),
                Freshness.fresh(NOW));
        assertThat(r.limits().get(0).used()).isEqualByComparingTo("9");
        assertThat(r.limits().get(0).windowStart()).isEqualTo(Instant.parse("2026-11-22T14:00:00Z"));
        assertThat(r.limits().get(0).resetsAt()).isEqualTo(Instant.parse("2026-11-22T19:00:00Z"));
        assertThat(r.allowed()).isTrue();
        assertThat(r.limits().get(2).exceeded()).as("soft limit exceeded but not refusing").isTrue();
    }

    @Test
    void shouldCountSevenDaysOfTokensAcrossDailyAndHourlyRows() {
        usage.record("acme", "", "AI_COMPLETION", Instant.parse("2026-11-15T18:59:00Z"), 1, 500, 0, "0")
                .record("acme", "", "AI_COMPLETION", Instant.parse("2026-11-15T19:00:00Z"), 1, 300, 0, "0")
                .record("acme", "", "AI_COMPLETION", Instant.parse("2026-11-18T03:00:00Z"), 1, 200, 0, "0")
                .record("acme", "", "AI_COMPLETION", Instant.parse("2026-11-22T01:00:00Z"), 1, 0, 499, "0");
        CheckResult r = evaluator(EnforcementMode.ENFORCE, StalePolicy.FAIL_OPEN).check(
                new CheckRequest("acme", "AI_COMPLETION", 1, 1, BigDecimal.ZERO, null, null),
                Accounts.on(CATALOG).build(), usage, Freshness.fresh(NOW), NOW);
        assertThat(r.limits()).singleElement().satisfies(l -> assertThat(l.used()).isEqualByComparingTo("999"));
        assertThat(r.allowed()).isTrue();
        assertThat(usage.reads()).isEqualTo(1);
    }

    @Test
    void shouldReportWouldBlockInShadowAndNotBlockInOff() {
        usage.messages("acme", "", Instant.parse("2026-11-22T18:00:00Z"), 10);
        CheckResult shadow = check(evaluator(EnforcementMode.SHADOW, StalePolicy.FAIL_OPEN), Accounts.on(CATALOG),
                Freshness.fresh(NOW));
        assertThat(shadow.allowed()).isTrue();
        assertThat(shadow.wouldBlock()).isTrue();
        assertThat(shadow.code()).isEqualTo("HOURLY_MESSAGE_LIMIT_EXCEEDED");
        assertThat(shadow.suggestedStatus()).isEqualTo(200);
        CheckResult enforcedForThisOrg = check(evaluator(EnforcementMode.OFF, StalePolicy.FAIL_OPEN),
                Accounts.on(CATALOG).plan("basic").enforcement(EnforcementMode.ENFORCE), Freshness.fresh(NOW));
        assertThat(enforcedForThisOrg.allowed()).isFalse();
        // the 10 messages of 18:00 leave the rolling 5 h window at 23:00 (not at the next hour)
        assertThat(enforcedForThisOrg.retryAfterSeconds()).isEqualTo(4 * 3600 + 1800);
    }

    @Test
    void shouldRefuseInactiveSubscriptionsBeforeReadingUsage() {
        for (SubscriptionStatus s : new SubscriptionStatus[] {SubscriptionStatus.SUSPENDED, SubscriptionStatus.EXPIRED,
                SubscriptionStatus.CANCELED}) {
            CheckResult r = check(evaluator(EnforcementMode.ENFORCE, StalePolicy.FAIL_OPEN),
                    Accounts.on(CATALOG).plan("basic").status(s), Freshness.fresh(NOW));
            assertThat(r.code()).isEqualTo("SUBSCRIPTION_INACTIVE");
            assertThat(r.suggestedStatus()).isEqualTo(403);
        }
        assertThat(check(evaluator(EnforcementMode.ENFORCE, StalePolicy.FAIL_OPEN),
                Accounts.on(CATALOG).plan("basic").status(SubscriptionStatus.TRIALING), Freshness.fresh(NOW)).allowed())
                .isTrue();
        assertThat(usage.reads()).isEqualTo(1);
    }

    @Test
    void shouldFailClosedOnStaleDataOnlyWhenConfigured() {
        Freshness stale = Freshness.of(NOW.minusSeconds(61), NOW, Duration.ofSeconds(60));
        assertThat(stale.stale()).isTrue();
        CheckResult closed = check(evaluator(EnforcementMode.ENFORCE, StalePolicy.FAIL_CLOSED), Accounts.on(CATALOG), stale);
        assertThat(closed.allowed()).isFalse();
        assertThat(closed.code()).isEqualTo("USAGE_DATA_STALE");
        assertThat(closed.suggestedStatus()).isEqualTo(503);
        CheckResult open = check(evaluator(EnforcementMode.ENFORCE, StalePolicy.FAIL_OPEN), Accounts.on(CATALOG), stale);
        assertThat(open.allowed()).isTrue();
        assertThat(open.stale()).isTrue();
        assertThat(Freshness.of(null, NOW, Duration.ofSeconds(60)).stale()).isTrue();
        assertThat(Freshness.of(NOW.minusSeconds(60), NOW, Duration.ofSeconds(60)).stale()).isFalse();
    }

    @Test
    void shouldCountTheRequestedAmountAgainstTheLimit() {
        usage.messages("acme", "", Instant.parse("2026-11-22T18:00:00Z"), 9);
        CheckEvaluator e = evaluator(EnforcementMode.ENFORCE, StalePolicy.FAIL_OPEN);
        assertThat(e.check(new CheckRequest("acme", "CHAT_MESSAGE", 1, 0, null, null, null),
                Accounts.on(CATALOG).build(), usage, Freshness.fresh(NOW), NOW).allowed()).isTrue();
        assertThat(e.check(new CheckRequest("acme", "CHAT_MESSAGE", 2, 0, null, null, null),
                Accounts.on(CATALOG).build(), usage, Freshness.fresh(NOW), NOW).allowed()).isFalse();
        assertThat(e.check(new CheckRequest("acme", "CHAT_MESSAGE", 0, 0, null, null, null),
                Accounts.on(CATALOG).build(), usage, Freshness.fresh(NOW), NOW).allowed()).isTrue();
    }
}
