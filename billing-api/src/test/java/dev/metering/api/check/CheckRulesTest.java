package dev.metering.api.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.metering.api.ApiException;
import dev.metering.api.http.RateLimitHeaders;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.usage.InMemoryUsage;
import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Required dimensions, the blocking limit's retry hint, RateLimit fields, token meters, lifetime windows. */
class CheckRulesTest {

    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");
    private static final PlanCatalog CATALOG = CatalogParser.parse("""
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - { id: daily-messages, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 5 }
                  - { id: monthly-tokens, meter: tokens, window: month, max: 1000 }
                  - { id: user-hourly, feature: CHAT_MESSAGE, meter: quantity, window: hour, scope: user, max: 3 }
                  - { id: user-soft, feature: AI_COMPLETION, meter: quantity, window: day, scope: user, max: 9, enforcement: soft }
              - id: guests
                limits:
                  - { id: free-exchanges, feature: CHAT_MESSAGE, meter: quantity, window: lifetime, scope: user, max: 3 }
              - id: rolling
                limits:
                  - { id: five-hours, meter: quantity, window: "rolling:5h", max: 10 }
            """, CatalogParser.Format.YAML);

    private final InMemoryUsage usage = new InMemoryUsage();

    private CheckResult check(EnforcementMode mode, Accounts account, CheckRequest req) {
        return new CheckEvaluator(new ModePolicy(mode, 0), StalePolicy.FAIL_OPEN)
                .check(req, account.build(), usage, Freshness.fresh(NOW), NOW);
    }

    private static CheckRequest chat(String userId) {
        return new CheckRequest("acme", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, userId, null);
    }

    @Test
    void shouldRefuseACheckWithoutUserIdWhenAHardUserLimitAppliesInEnforceMode() {
        ApiException e = catchThrowableOfType(ApiException.class,
                () -> check(EnforcementMode.ENFORCE, Accounts.on(CATALOG), chat(null)));
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.field()).isEqualTo("userId");
        assertThat(e.getMessage()).isEqualTo("userId: required: limit user-hourly (scope user, hard) applies to CHAT_MESSAGE");
    }

    @Test
    void shouldWarnInsteadInShadowModeAndForSoftLimits() {
        CheckResult shadow = check(EnforcementMode.SHADOW, Accounts.on(CATALOG), chat(null));
        assertThat(shadow.allowed()).isTrue();
        assertThat(shadow.warnings()).containsExactly("userId is required: limit user-hourly (scope user, hard) applies"
                + " to CHAT_MESSAGE; not evaluated (enforce mode refuses such a check with 400)");
        assertThat(shadow.limits()).extracting(s -> s.definition().id()).containsExactly("daily-messages", "monthly-tokens");

        CheckResult soft = check(EnforcementMode.ENFORCE, Accounts.on(CATALOG),
                new CheckRequest("acme", "AI_COMPLETION", 1, 0, BigDecimal.ZERO, null, null));
        assertThat(soft.allowed()).isTrue();
        assertThat(soft.warnings()).containsExactly(
                "userId is required: limit user-soft (scope user, soft) applies to AI_COMPLETION; not evaluated");

        CheckResult withUser = check(EnforcementMode.ENFORCE, Accounts.on(CATALOG), chat("alice"));
        assertThat(withUser.warnings()).isEmpty();
        assertThat(withUser.limits()).extracting(s -> s.definition().id())
                .containsExactly("daily-messages", "monthly-tokens", "user-hourly");
    }

    @Test
    void shouldAnswerTheRetryOfTheBlockingLimitNotOfAnother() {
        usage.messages("acme", "bob", Instant.parse("2026-11-22T09:00:00Z"), 5);
        CheckResult r = check(EnforcementMode.ENFORCE, Accounts.on(CATALOG), chat("alice"));
        assertThat(r.code()).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
        assertThat(r.retryAfterSeconds()).as("until 2026-11-23T00:00Z, not the month's end").isEqualTo(5 * 3600 + 1800);
        assertThat(r.constraining().definition().id()).isEqualTo("daily-messages");
    }

    @Test
    void shouldDescribeTheBlockingLimitThatFreesLast() {
        usage.messages("acme", "alice", Instant.parse("2026-11-22T18:10:00Z"), 3)
                .messages("acme", "bob", Instant.parse("2026-11-22T09:00:00Z"), 2)
                .record("acme", "alice", "CHAT_MESSAGE", Instant.parse("2026-11-02T00:00:00Z"), 2, 600, 400, "0");
        CheckResult r = check(EnforcementMode.ENFORCE, Accounts.on(CATALOG), chat("alice"));
        assertThat(r.limits()).filteredOn(LimitStatus::exceeded).extracting(s -> s.definition().id())
                .containsExactly("daily-messages", "monthly-tokens", "user-hourly");
        assertThat(r.code()).isEqualTo("MONTHLY_TOKEN_LIMIT_EXCEEDED");
        assertThat(r.retryAfterSeconds()).isEqualTo(8 * 86400 + 5 * 3600 + 1800);
    }

    @Test
    void shouldAnswerNoRetryWhenWaitingCannotHelp() {
        CheckResult tooBig = check(EnforcementMode.ENFORCE, Accounts.on(CATALOG),
                new CheckRequest("acme", "CHAT_MESSAGE", 6, 0, BigDecimal.ZERO, "alice", null));
        assertThat(tooBig.allowed()).isFalse();
        assertThat(tooBig.code()).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
        assertThat(tooBig.retryAfterSeconds()).as("6 messages never fit a limit of 5").isNull();
    }

    @Test
    void shouldFreeARollingWindowWhenEnoughOldHoursHaveLeftIt() {
        usage.messages("acme", "", Instant.parse("2026-11-22T14:20:00Z"), 2)
                .messages("acme", "", Instant.parse("2026-11-22T15:20:00Z"), 3)
                .messages("acme", "", Instant.parse("2026-11-22T18:20:00Z"), 5);
        CheckResult r = check(EnforcementMode.ENFORCE, Accounts.on(CATALOG).plan("rolling"),
                new CheckRequest("acme", "CHAT_MESSAGE", 4, 0, BigDecimal.ZERO, null, null));
        // 10 used + 4 requested > 10: the 14:00 hour (2) leaves at 19:00, the 15:00 hour (3) at 20:00
        assertThat(r.retryAfterSeconds()).isEqualTo(3600 + 1800);
    }

    @Test
    void shouldCountCachedInputTokensInTheTokensMeter() {
        usage.record("acme", "", "AI_COMPLETION", Instant.parse("2026-11-10T00:00:00Z"), 1, 0, 0, "0");
        assertThat(new dev.metering.api.usage.UsageTotals(1, 1, 300, 200, 500, BigDecimal.ZERO)
                .value(dev.metering.api.plan.Meter.TOKENS)).isEqualByComparingTo("1000");
    }

    @Test
    void shouldRefuseTheFourthGuestExchangeForeverWithLifetimeCode() {
        usage.messages("acme", "guest-1", Instant.parse("2024-01-05T10:00:00Z"), 2)
                .messages("acme", "guest-1", Instant.parse("2026-11-22T18:00:00Z"), 1)
                .messages("acme", "guest-2", Instant.parse("2026-11-22T18:00:00Z"), 1);
        CheckResult fourth = check(EnforcementMode.ENFORCE, Accounts.on(CATALOG).plan("guests"), chat("guest-1"));
        assertThat(fourth.allowed()).isFalse();
        assertThat(fourth.code()).isEqualTo("LIFETIME_LIMIT_EXCEEDED");
        assertThat(fourth.retryAfterSeconds()).isNull();
        assertThat(fourth.limits().get(0).resetsAt()).isNull();
        assertThat(fourth.message()).isEqualTo("Limit free-exchanges reached: 3 of 3 quantity used in the current"
                + " lifetime window by user guest-1; it never resets");
        assertThat(RateLimitHeaders.of(fourth, NOW)).containsExactly("\"free-exchanges\";q=3", "\"free-exchanges\";r=0");
        assertThat(check(EnforcementMode.ENFORCE, Accounts.on(CATALOG).plan("guests"), chat("guest-2")).allowed()).isTrue();
    }

    @Test
    void shouldWriteRateLimitFieldsForTheMostConstrainingLimit() {
        usage.messages("acme", "alice", Instant.parse("2026-11-22T10:00:00Z"), 2)
                .messages("acme", "bob", Instant.parse("2026-11-22T18:00:00Z"), 1);
        CheckResult r = check(EnforcementMode.ENFORCE, Accounts.on(CATALOG), chat("alice"));
        assertThat(r.allowed()).isTrue();
        // daily 3 of 5 left (60%), monthly tokens 100%, alice's hour 3 of 3 left: the daily limit
        assertThat(RateLimitHeaders.of(r, NOW)).containsExactly("\"daily-messages\";q=5;w=86400",
                "\"daily-messages\";r=2;t=19800");
    }
}
