package dev.metering.api.check;

import dev.metering.api.credit.Balance;
import dev.metering.api.credit.BalanceRules;
import dev.metering.api.plan.Enforcement;
import dev.metering.api.plan.LimitScope;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanLimit;
import dev.metering.api.subscription.BillingPeriod;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.usage.Segments;
import dev.metering.api.usage.UsageReader;
import dev.metering.api.usage.UsageSegment;
import dev.metering.api.usage.UsageTotals;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Evaluates checks and limit reports: plain Java, no HTTP, no SQL. Usage comes through a
 * {@link UsageReader} that is asked once per evaluation for every segment needed (all limits'
 * windows plus, for balances, the usage since the oldest active grant).
 *
 * <p>Order of refusals: inactive subscription (403), feature not in plan (403), hard limits
 * (429, code of the first exceeded limit in catalog order, retry after the latest reset among
 * them), prepaid balance (402), stale data with fail-closed (503). Soft limits never refuse;
 * they are reported {@code exceeded}. Only {@code enforce} mode turns a refusal into
 * {@code allowed: false}; {@code shadow} and {@code off} answer allowed with {@code wouldBlock}.
 */
public final class CheckEvaluator {

    public static final String SUBSCRIPTION_INACTIVE = "SUBSCRIPTION_INACTIVE";
    public static final String FEATURE_NOT_IN_PLAN = "FEATURE_NOT_IN_PLAN";
    public static final String INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE";
    public static final String USAGE_DATA_STALE = "USAGE_DATA_STALE";

    private final ModePolicy modes;
    private final StalePolicy stalePolicy;

    public CheckEvaluator(ModePolicy modes, StalePolicy stalePolicy) {
        this.modes = modes;
        this.stalePolicy = stalePolicy;
    }

    public ModePolicy modes() {
        return modes;
    }

    public StalePolicy stalePolicy() {
        return stalePolicy;
    }

    public CheckResult check(CheckRequest req, BillingAccount account, UsageReader reader, Freshness freshness,
                             Instant now) {
        Plan plan = account.plan();
        Subscription sub = account.subscription();
        EnforcementMode mode = modes.modeFor(req.orgId(), sub == null ? null : sub.enforcement());

        if (sub != null && !sub.status().isUsable()) {
            return refusedBeforeUsage(req, plan, mode, freshness, SUBSCRIPTION_INACTIVE,
                    "The subscription is " + sub.status().wireName() + "; " + req.feature() + " is not available", 403);
        }
        if (!plan.allowsFeature(req.feature())) {
            return refusedBeforeUsage(req, plan, mode, freshness, FEATURE_NOT_IN_PLAN,
                    req.feature() + " is not included in plan " + plan.id(), 403);
        }

        List<PlanLimit> applicable = new ArrayList<>();
        for (PlanLimit l : plan.limits()) {
            if (l.appliesTo(req.feature()) && (l.scope() == LimitScope.ORG || req.userId() != null)) {
                applicable.add(l);
            }
        }
        Evaluation ev = evaluate(account, applicable, req, req.userId(), reader, now);

        String code = null;
        String message = null;
        int status = 200;
        Long retryAfter = null;
        List<LimitStatus> blocking = ev.limits.stream()
                .filter(s -> s.exceeded() && s.definition().enforcement() == Enforcement.HARD).toList();
        if (!blocking.isEmpty()) {
            LimitStatus first = blocking.get(0);
            code = first.definition().code();
            message = describe(first, req);
            status = 429;
            Instant latest = blocking.stream().map(LimitStatus::resetsAt).max(Instant::compareTo).orElseThrow();
            retryAfter = secondsUntil(now, latest);
        } else if (plan.prepaid() && ev.balance != null
                && ev.balance.balanceUsd().subtract(req.costUsd()).compareTo(plan.minBalanceUsd()) < 0) {
            code = INSUFFICIENT_BALANCE;
            message = "Balance $" + ev.balance.balanceUsd().toPlainString() + " is below the minimum of $"
                    + plan.minBalanceUsd().toPlainString() + " for plan " + plan.id();
            status = 402;
        } else if (freshness.stale() && stalePolicy == StalePolicy.FAIL_CLOSED) {
            code = USAGE_DATA_STALE;
            message = "Usage data is stale (as of " + freshness.usageAsOf() + ") and the stale policy is fail-closed";
            status = 503;
        }
        boolean wouldBlock = code != null;
        boolean allowed = !(wouldBlock && mode == EnforcementMode.ENFORCE);
        return new CheckResult(req.orgId(), req.feature(), allowed, code, message, allowed ? 200 : status,
                allowed ? null : retryAfter, mode, wouldBlock, plan.id(), ev.limits,
                ev.balance == null ? null : ev.balance.balanceUsd(), freshness.usageAsOf(), freshness.stale());
    }

    /** Every limit of the org's plan (user-scoped ones only when a user is given) with its usage now. */
    public LimitsReport limits(BillingAccount account, String userId, UsageReader reader, Freshness freshness,
                               Instant now) {
        List<PlanLimit> applicable = account.plan().limits().stream()
                .filter(l -> l.scope() == LimitScope.ORG || userId != null).toList();
        Evaluation ev = evaluate(account, applicable, null, userId, reader, now);
        BillingPeriod period = BillingPeriod.current(account.subscription(), now);
        return new LimitsReport(account.orgId(), account.plan().id(), period.start(), period.end(), ev.limits,
                ev.balance == null ? null : ev.balance.balanceUsd(), freshness.usageAsOf());
    }

    /** The balance alone (one read of the usage since the oldest active grant). */
    public static Balance balance(BillingAccount account, UsageReader reader, Instant now) {
        List<UsageSegment> segments = BalanceRules.segments(account.grants(), now);
        Map<UsageSegment, UsageTotals> totals = segments.isEmpty() ? Map.of()
                : reader.totals(account.orgId(), new LinkedHashSet<>(segments));
        return BalanceRules.balance(account.orgId(), account.grants(), sum(segments, totals).costUsd(), now);
    }

    private record Evaluation(List<LimitStatus> limits, Balance balance) {
    }

    private Evaluation evaluate(BillingAccount account, List<PlanLimit> limits, CheckRequest req, String userId,
                                UsageReader reader, Instant now) {
        BillingPeriod period = BillingPeriod.current(account.subscription(), now);
        Map<PlanLimit, WindowRange> ranges = new LinkedHashMap<>();
        Map<PlanLimit, List<UsageSegment>> segmentsByLimit = new LinkedHashMap<>();
        Set<UsageSegment> all = new LinkedHashSet<>();
        for (PlanLimit l : limits) {
            WindowRange range = WindowRange.of(l.window(), now, period);
            List<UsageSegment> segs = Segments.decompose(range.start(), range.end(),
                    l.scope() == LimitScope.USER ? userId : null, l.feature());
            ranges.put(l, range);
            segmentsByLimit.put(l, segs);
            all.addAll(segs);
        }
        boolean withBalance = account.plan().prepaid() || !account.grants().isEmpty();
        List<UsageSegment> balanceSegments = withBalance ? BalanceRules.segments(account.grants(), now) : List.of();
        all.addAll(balanceSegments);

        Map<UsageSegment, UsageTotals> totals = all.isEmpty() ? Map.of() : reader.totals(account.orgId(), all);

        List<LimitStatus> statuses = new ArrayList<>(limits.size());
        for (PlanLimit l : limits) {
            BigDecimal max = effectiveMax(l, account);
            BigDecimal used = sum(segmentsByLimit.get(l), totals).value(l.meter());
            BigDecimal requested = req == null ? BigDecimal.ZERO : requested(l, req);
            boolean exceeded = requested.signum() == 0 ? used.compareTo(max) >= 0
                    : used.add(requested).compareTo(max) > 0;
            BigDecimal remaining = max.subtract(used).max(BigDecimal.ZERO);
            WindowRange range = ranges.get(l);
            statuses.add(new LimitStatus(l, max, used, remaining, range.start(), range.resetsAt(), exceeded));
        }
        Balance balance = withBalance ? BalanceRules.balance(account.orgId(), account.grants(),
                sum(balanceSegments, totals).costUsd(), now) : null;
        return new Evaluation(List.copyOf(statuses), balance);
    }

    static BigDecimal effectiveMax(PlanLimit l, BillingAccount account) {
        Subscription sub = account.subscription();
        BigDecimal max = sub != null && sub.overrides().containsKey(l.id()) ? sub.overrides().get(l.id()) : l.max();
        return l.perSeat() ? max.multiply(BigDecimal.valueOf(account.seats())) : max;
    }

    private static BigDecimal requested(PlanLimit l, CheckRequest req) {
        switch (l.meter()) {
            case EVENTS:
            case QUANTITY:
                return BigDecimal.valueOf(req.quantity());
            case COST_USD:
                return req.costUsd();
            default:
                return BigDecimal.valueOf(req.tokens());
        }
    }

    private static UsageTotals sum(List<UsageSegment> segments, Map<UsageSegment, UsageTotals> totals) {
        UsageTotals t = UsageTotals.ZERO;
        for (UsageSegment s : segments) {
            t = t.plus(totals.getOrDefault(s, UsageTotals.ZERO));
        }
        return t;
    }

    private CheckResult refusedBeforeUsage(CheckRequest req, Plan plan, EnforcementMode mode, Freshness freshness,
                                           String code, String message, int status) {
        boolean allowed = mode != EnforcementMode.ENFORCE;
        return new CheckResult(req.orgId(), req.feature(), allowed, code, message, allowed ? 200 : status, null,
                mode, true, plan.id(), List.of(), null, freshness.usageAsOf(), freshness.stale());
    }

    private static String describe(LimitStatus s, CheckRequest req) {
        PlanLimit l = s.definition();
        String what = l.meter().isMoney() ? "$" + s.used().toPlainString() + " of $" + s.limit().toPlainString()
                : s.used().toPlainString() + " of " + s.limit().toPlainString() + " " + l.meter().wireName();
        return "Limit " + l.id() + " reached: " + what + " used in the current " + l.window() + " window"
                + (l.scope() == LimitScope.USER ? " by user " + req.userId() : "")
                + "; resets at " + s.resetsAt();
    }

    static long secondsUntil(Instant now, Instant then) {
        long millis = Duration.between(now, then).toMillis();
        return millis <= 0 ? 0 : (millis + 999) / 1000;
    }
}
