package dev.metering.api.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.metering.api.check.Accounts;
import dev.metering.api.check.CheckEvaluator;
import dev.metering.api.check.CheckRequest;
import dev.metering.api.check.CheckResult;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.Freshness;
import dev.metering.api.check.ModePolicy;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.usage.InMemoryUsage;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every seed system's catalog from examples/, loaded and exercised with exact decisions. */
class ExampleCatalogsTest {

    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");
    private static final Freshness FRESH = Freshness.fresh(NOW.minusSeconds(1));
    private final CheckEvaluator evaluator = new CheckEvaluator(new ModePolicy(EnforcementMode.ENFORCE, 0),
            StalePolicy.FAIL_OPEN);
    private final InMemoryUsage usage = new InMemoryUsage();

    private CheckResult check(Accounts account, CheckRequest request) {
        return evaluator.check(request, account.build(), usage, FRESH, NOW);
    }

    private static CheckRequest messages(String org, String user, long n) {
        return new CheckRequest(org, "CHAT_MESSAGE", n, 0, BigDecimal.ZERO, user, null);
    }

    @Nested
    class Seed000ChatRateLimiting {
        private final PlanCatalog catalog = ExampleCatalogs.load(ExampleCatalogs.SEED_000);

        @Test
        void shouldDefineFivePlansWithDailyMessageAndMonthlyTokenLimits() {
            assertThat(catalog.defaultPlanId()).isEqualTo("TRIAL");
            assertThat(catalog.plans()).extracting(Plan::id)
                    .containsExactly("TRIAL", "PAYG", "STARTER", "PRO", "ENTERPRISE");
            assertThat(catalog.plans()).extracting(p -> p.limit("daily-messages").orElseThrow().max().longValueExact())
                    .containsExactly(200L, 1000L, 2000L, 5000L, 10000L);
            assertThat(catalog.plans()).extracting(p -> p.limit("monthly-tokens").orElseThrow().max().longValueExact())
                    .containsExactly(100_000L, 1_000_000L, 2_000_000L, 5_000_000L, 10_000_000L);
            assertThat(catalog.plans()).allSatisfy(p -> assertThat(p.limit("monthly-tokens").orElseThrow().window())
                    .isEqualTo(TimeWindow.BILLING_PERIOD));
        }

        @Test
        void shouldAllowThe200thTrialMessageOfTheDayAndBlockThe201st() {
            Accounts trial = Accounts.on(catalog).org("biz-1").plan("TRIAL");
            usage.messages("biz-1", "", Instant.parse("2026-11-22T08:00:00Z"), 150)
                    .messages("biz-1", "", Instant.parse("2026-11-22T18:10:00Z"), 49)
                    .messages("biz-1", "", Instant.parse("2026-11-21T23:59:00Z"), 500);

            CheckResult the200th = check(trial, messages("biz-1", null, 1));
            assertThat(the200th.allowed()).isTrue();
            assertThat(the200th.code()).isNull();
            assertThat(check(trial, messages("biz-1", null, 2)).allowed()).isFalse();

            usage.messages("biz-1", "", Instant.parse("2026-11-22T18:20:00Z"), 1);
            CheckResult the201st = check(trial, messages("biz-1", null, 1));
            assertThat(the201st.allowed()).isFalse();
            assertThat(the201st.code()).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
            assertThat(the201st.suggestedStatus()).isEqualTo(429);
            assertThat(the201st.limits().get(0).resetsAt()).isEqualTo(Instant.parse("2026-11-23T00:00:00Z"));
            assertThat(the201st.retryAfterSeconds()).isEqualTo(5 * 3600 + 30 * 60L);
            assertThat(the201st.limits().get(0).used()).isEqualByComparingTo("200");
            assertThat(the201st.limits().get(0).remaining()).isEqualByComparingTo("0");
        }

        @Test
        void shouldBlockOnceMonthlyTokensAreUsedUpEvenForAZeroTokenRequest() {
            Accounts trial = Accounts.on(catalog).org("biz-2").plan("TRIAL")
                    .period("2026-11-15T00:00:00Z", "2026-12-15T00:00:00Z");
            usage.record("biz-2", "", "CHAT_MESSAGE", Instant.parse("2026-11-14T12:00:00Z"), 1, 90_000, 0, "0")
                    .record("biz-2", "", "CHAT_MESSAGE", Instant.parse("2026-11-16T12:00:00Z"), 1, 60_000, 39_999, "0");
            assertThat(check(trial, messages("biz-2", null, 1)).allowed()).isTrue();

            usage.record("biz-2", "", "AI_COMPLETION", Instant.parse("2026-11-22T18:05:00Z"), 1, 1, 0, "0");
            CheckResult used = check(trial, messages("biz-2", null, 1));
            assertThat(used.allowed()).isFalse();
            assertThat(used.code()).isEqualTo("MONTHLY_TOKEN_LIMIT_EXCEEDED");
            assertThat(used.limits().get(1).used()).isEqualByComparingTo("100000");
            assertThat(used.limits().get(1).resetsAt()).isEqualTo(Instant.parse("2026-12-15T00:00:00Z"));
        }

        @Test
        void shouldReadUsageOnceForAllLimitsOfACheck() {
            check(Accounts.on(catalog).org("biz-3").plan("PRO"), messages("biz-3", null, 1));
            assertThat(usage.reads()).isEqualTo(1);
        }
    }

    @Nested
    class Seed001ChatQuotaLicensing {
        private final PlanCatalog catalog = ExampleCatalogs.load(ExampleCatalogs.SEED_001);

        /** A chat message in conversation c-1 (every seed-001 message belongs to a conversation). */
        private CheckRequest chat(String org, String user, long n) {
            return new CheckRequest(org, "CHAT_MESSAGE", n, 0, BigDecimal.ZERO, user, "c-1");
        }

        @Test
        void shouldDefinePerUserHourlyAndDailyQuotas() {
            assertThat(catalog.plans()).extracting(Plan::id).containsExactly("free", "pro", "enterprise");
            assertThat(catalog.plans()).extracting(p -> p.limit("messages-per-user-day").orElseThrow().max().intValue())
                    .containsExactly(20, 500, 2000);
            assertThat(catalog.plans()).extracting(p -> p.limit("messages-per-user-hour").orElseThrow().max().intValue())
                    .containsExactly(10, 100, 500);
        }

        @Test
        void shouldBlockTheEleventhMessageOfAUserInAnHourWhileAnotherUserIsAllowed() {
            Accounts free = Accounts.on(catalog).org("team-1");
            usage.messages("team-1", "alice", Instant.parse("2026-11-22T18:01:00Z"), 10)
                    .messages("team-1", "bob", Instant.parse("2026-11-22T18:02:00Z"), 3)
                    .messages("team-1", "bob", Instant.parse("2026-11-22T17:59:00Z"), 9);

            CheckResult alice = check(free, chat("team-1", "alice", 1));
            assertThat(alice.allowed()).isFalse();
            assertThat(alice.code()).isEqualTo("HOURLY_MESSAGE_LIMIT_EXCEEDED");
            assertThat(alice.retryAfterSeconds()).isEqualTo(30 * 60L);
            assertThat(alice.message()).contains("by user alice");

            CheckResult bob = check(free, chat("team-1", "bob", 1));
            assertThat(bob.allowed()).isTrue();
            assertThat(bob.limits()).filteredOn(l -> l.definition().id().equals("messages-per-user-day"))
                    .singleElement().satisfies(l -> assertThat(l.used()).isEqualByComparingTo("12"));

            // every free-plan message limit is per user: a check without userId cannot be answered
            dev.metering.api.ApiException noUser = catchThrowableOfType(dev.metering.api.ApiException.class,
                    () -> check(free, chat("team-1", null, 1)));
            assertThat(noUser.status()).isEqualTo(400);
            assertThat(noUser.field()).isEqualTo("userId");
        }

        @Test
        void shouldAllowFileUploadsOnlyOnPaidPlans() {
            CheckRequest upload = new CheckRequest("team-2", "FILE_UPLOAD", 1, 0, BigDecimal.ZERO, "alice", null);
            CheckResult free = check(Accounts.on(catalog).org("team-2"), upload);
            assertThat(free.allowed()).isFalse();
            assertThat(free.code()).isEqualTo("FEATURE_NOT_IN_PLAN");
            assertThat(free.suggestedStatus()).isEqualTo(403);
            assertThat(check(Accounts.on(catalog).org("team-2").plan("pro"), upload).allowed()).isTrue();
        }

        @Test
        void shouldWarnSoftlyAt80PercentOfTheDailyCostAndBlockAt100() {
            Accounts free = Accounts.on(catalog).org("team-3");
            usage.record("team-3", "carol", "AI_COMPLETION", Instant.parse("2026-11-22T10:00:00Z"), 1, 0, 0, "0.033");
            CheckRequest completion = new CheckRequest("team-3", "AI_COMPLETION", 1, 0, new BigDecimal("0.002"), "carol", null);
            CheckResult warned = check(free, completion);
            assertThat(warned.allowed()).isTrue();
            assertThat(warned.limits()).filteredOn(l -> l.definition().id().equals("cost-warning-80"))
                    .singleElement().satisfies(l -> assertThat(l.exceeded()).isTrue());

            usage.record("team-3", "carol", "AI_COMPLETION", Instant.parse("2026-11-22T11:00:00Z"), 1, 0, 0, "0.006");
            CheckResult blocked = check(free, completion);
            assertThat(blocked.allowed()).isFalse();
            assertThat(blocked.code()).isEqualTo("USAGE_LIMIT_EXCEEDED");
        }

        @Test
        void shouldBlockThe51stMessageOfAFreeConversationAndNameTheMissingConversation() {
            Accounts free = Accounts.on(catalog).org("team-4");
            for (int i = 0; i < 50; i++) {
                usage.conversationMessage("team-4", "u" + (i % 10), "c-long", Instant.parse("2026-11-01T00:00:00Z").plusSeconds(3600L * i));
            }
            usage.conversationMessage("team-4", "u1", "c-short", Instant.parse("2026-11-22T17:00:00Z"));

            CheckResult full = check(free, new CheckRequest("team-4", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "u1", "c-long"));
            assertThat(full.allowed()).isFalse();
            assertThat(full.code()).isEqualTo("CONVERSATION_LIMIT_EXCEEDED");
            assertThat(full.message()).contains("in conversation c-long");
            assertThat(full.retryAfterSeconds()).as("a conversation's limit never resets").isNull();
            assertThat(full.limits()).filteredOn(l -> l.definition().id().equals("messages-per-conversation"))
                    .singleElement().satisfies(l -> assertThat(l.used()).isEqualByComparingTo("50"));
            assertThat(check(free, new CheckRequest("team-4", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "u1", "c-short"))
                    .allowed()).isTrue();
            assertThat(check(Accounts.on(catalog).org("team-4").plan("pro"),
                    new CheckRequest("team-4", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "u1", "c-long")).allowed()).isTrue();

            dev.metering.api.ApiException noConversation = catchThrowableOfType(dev.metering.api.ApiException.class,
                    () -> check(free, new CheckRequest("team-4", "CHAT_MESSAGE", 1, 0, BigDecimal.ZERO, "u1", null)));
            assertThat(noConversation.status()).isEqualTo(400);
            assertThat(noConversation.field()).isEqualTo("conversationId");
        }
    }

    @Nested
    class Seed002OrgUsageTracking {
        private final PlanCatalog catalog = ExampleCatalogs.load(ExampleCatalogs.SEED_002);

        @Test
        void shouldPutOrgsWithoutSubscriptionOnFree() {
            assertThat(catalog.plans()).extracting(Plan::id).containsExactly("free", "starter", "pro", "business");
            assertThat(catalog.plans()).extracting(Plan::priceUsd).extracting(BigDecimal::intValue)
                    .containsExactly(0, 29, 79, 149);
            Accounts noTier = Accounts.on(catalog).org("operate");
            usage.record("operate", "u", "AI_MESSAGES", Instant.parse("2026-11-02T09:00:00Z"), 99, 0, 0, "0");
            CheckRequest ai = new CheckRequest("operate", "AI_MESSAGES", 1, 0, BigDecimal.ZERO, null, null);
            CheckResult last = check(noTier, ai);
            assertThat(last.planId()).isEqualTo("free");
            assertThat(last.allowed()).isTrue();
            usage.record("operate", "u", "AI_MESSAGES", Instant.parse("2026-11-22T18:00:00Z"), 1, 0, 0, "0");
            CheckResult over = check(noTier, ai);
            assertThat(over.allowed()).isFalse();
            assertThat(over.code()).as("a monthly quantity limit without a code").isEqualTo("MONTHLY_MESSAGE_LIMIT_EXCEEDED");
            assertThat(over.limits().get(0).resetsAt()).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
            assertThat(check(noTier, new CheckRequest("operate", "WORKFLOW_RUN", 1, 0, null, null, null)).code())
                    .isEqualTo("FEATURE_NOT_IN_PLAN");
        }
    }

    @Nested
    class Seed003UsageBasedBilling {
        private final PlanCatalog catalog = ExampleCatalogs.load(ExampleCatalogs.SEED_003);

        @Test
        void shouldMultiplyTheTeamBudgetBySeatsAndBlockAt120Dollars000000001() {
            Accounts team = Accounts.on(catalog).org("ws-1").plan("team").seats(3);
            usage.cost("ws-1", "WORKFLOW_RUN", Instant.parse("2026-11-03T10:00:00Z"), "100")
                    .cost("ws-1", "WORKFLOW_RUN", Instant.parse("2026-11-22T17:00:00Z"), "19.999999999");
            CheckRequest exactlyToTheLimit = new CheckRequest("ws-1", "WORKFLOW_RUN", 1, 0, new BigDecimal("0.000000001"), null, null);
            CheckResult atLimit = check(team, exactlyToTheLimit);
            assertThat(atLimit.allowed()).isTrue();
            assertThat(atLimit.limits().get(0).limit()).isEqualByComparingTo("120");

            usage.cost("ws-1", "WORKFLOW_RUN", Instant.parse("2026-11-22T18:00:00Z"), "0.000000002");
            CheckResult over = check(team, new CheckRequest("ws-1", "WORKFLOW_RUN", 1, 0, null, null, null));
            assertThat(over.allowed()).isFalse();
            assertThat(over.code()).isEqualTo("USAGE_LIMIT_EXCEEDED");
            assertThat(over.limits().get(0).used()).isEqualByComparingTo("120.000000001");
            assertThat(over.retryAfterSeconds()).isEqualTo(8 * 86400 + 5 * 3600 + 30 * 60L);
        }

        @Test
        void shouldLetAnOrgOverrideTheEnterpriseBudget() {
            usage.cost("big", "WORKFLOW_RUN", Instant.parse("2026-11-10T10:00:00Z"), "150");
            CheckRequest run = new CheckRequest("big", "WORKFLOW_RUN", 1, 0, null, null, null);
            assertThat(check(Accounts.on(catalog).org("big").plan("enterprise"), run).allowed()).isFalse();
            CheckResult overridden = check(Accounts.on(catalog).org("big").plan("enterprise").override("period-cost", "250"), run);
            assertThat(overridden.allowed()).isTrue();
            assertThat(overridden.limits().get(0).remaining()).isEqualByComparingTo("100");
        }

        @Test
        void shouldGiveOrgsWithoutSubscriptionTheFreeBudget() {
            usage.cost("new", "WORKFLOW_RUN", Instant.parse("2026-11-10T10:00:00Z"), "5");
            CheckResult r = check(Accounts.on(catalog).org("new"), new CheckRequest("new", "WORKFLOW_RUN", 1, 0, null, null, null));
            assertThat(r.planId()).isEqualTo("free");
            assertThat(r.allowed()).isFalse();
        }
    }

    @Nested
    class Seed004PrepaidCredits {
        private final PlanCatalog catalog = ExampleCatalogs.load(ExampleCatalogs.SEED_004);

        @Test
        void shouldRefuseBelowOneCentWith402AndAllowAgainAfterACreditGrant() {
            assertThat(catalog.defaultPlan().welcomeCreditUsd()).isEqualByComparingTo("10.00");
            Accounts payg = Accounts.on(catalog).org("user-1").plan("payg").grant("10.00", "2026-11-20T09:15:00Z");
            usage.record("user-1", "user-1", "AI_COMPLETION", Instant.parse("2026-11-20T09:40:00Z"), 1, 1000, 500, "4.5")
                    .record("user-1", "user-1", "AI_COMPLETION", Instant.parse("2026-11-22T18:10:00Z"), 1, 1000, 500, "5.491");
            CheckRequest chat = new CheckRequest("user-1", "AI_COMPLETION", 1, 0, null, "user-1", null);

            CheckResult poor = check(payg, chat);
            assertThat(poor.allowed()).isFalse();
            assertThat(poor.code()).isEqualTo("INSUFFICIENT_BALANCE");
            assertThat(poor.suggestedStatus()).isEqualTo(402);
            assertThat(poor.balanceUsd()).isEqualByComparingTo("0.009");
            assertThat(poor.retryAfterSeconds()).isNull();

            CheckResult topped = check(payg.grant("5.00", "2026-11-22T18:20:00Z"), chat);
            assertThat(topped.allowed()).isTrue();
            assertThat(topped.balanceUsd()).isEqualByComparingTo("5.009");
        }

        @Test
        void shouldGiveEachGuestSessionThreeExchangesEver() {
            Accounts guests = Accounts.on(catalog).org("guests").plan("guest");
            usage.record("guests", "session-a", "AI_COMPLETION", Instant.parse("2025-03-01T10:00:00Z"), 1, 50, 20, "0")
                    .record("guests", "session-a", "AI_COMPLETION", Instant.parse("2026-11-22T18:00:00Z"), 1, 50, 20, "0");
            CheckRequest a = new CheckRequest("guests", "AI_COMPLETION", 1, 0, null, "session-a", null);
            assertThat(check(guests, a).allowed()).isTrue();
            usage.record("guests", "session-a", "AI_COMPLETION", Instant.parse("2026-11-22T18:20:00Z"), 1, 50, 20, "0");
            CheckResult fourth = check(guests, a);
            assertThat(fourth.allowed()).isFalse();
            assertThat(fourth.code()).isEqualTo("LIFETIME_LIMIT_EXCEEDED");
            assertThat(fourth.suggestedStatus()).isEqualTo(429);
            assertThat(fourth.retryAfterSeconds()).isNull();
            assertThat(check(guests, new CheckRequest("guests", "AI_COMPLETION", 1, 0, null, "session-b", null))
                    .allowed()).isTrue();
            assertThat(catchThrowableOfType(dev.metering.api.ApiException.class, () -> check(guests,
                    new CheckRequest("guests", "AI_COMPLETION", 1, 0, null, null, null))).field()).isEqualTo("userId");
            assertThat(check(guests, new CheckRequest("guests", "CHAT_MESSAGE", 1, 0, null, "session-b", null)).code())
                    .isEqualTo("FEATURE_NOT_IN_PLAN");
        }

        @Test
        void shouldAllowAtExactlyOneCent() {
            Accounts payg = Accounts.on(catalog).org("user-2").plan("payg").grant("10.00", "2026-11-20T09:15:00Z");
            usage.cost("user-2", "AI_COMPLETION", Instant.parse("2026-11-21T00:00:00Z"), "9.99");
            assertThat(check(payg, new CheckRequest("user-2", "AI_COMPLETION", 1, 0, null, null, null)).allowed()).isTrue();
        }
    }
}
