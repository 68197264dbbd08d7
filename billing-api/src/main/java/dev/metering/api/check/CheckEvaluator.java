package dev.metering.api.check;

import dev.metering.api.ApiException;
import dev.metering.api.credit.Balance;
import dev.metering.api.credit.BalanceRules;
import dev.metering.api.plan.Enforcement;
import dev.metering.api.plan.LimitScope;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanLimit;
import dev.metering.api.subscription.BillingPeriod;
import dev.metering.api.plan.TimeWindow;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.usage.Grain;
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
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Evaluates checks and limit reports: plain Java, no HTTP, no SQL. Usage comes through a
 * {@link UsageReader} that is asked once per evaluation for every segment needed (all limits'
 * windows plus, for balances, the usage since the oldest active grant).
 *
 * <p>Order of refusals: inactive subscription (403), feature not in plan (403), hard limits
 * (429; code and retry of the blocking limit that frees last), prepaid balance (402), stale
 * data with fail-closed (503). A hard limit whose scope needs a dimension the request lacks is
 * a 400 in enforce mode. Soft limits never refuse;
 * they are reported {@code exceeded}. Only {@code enforce} mode turns a refusal into
 * {@code allowed: false}; {@code shadow} and {@code off} answer allowed with {@code wouldBlock}.
 */
public final class CheckEvaluator {

    public static final String SUBSCRIPTION_INACTIVE = "SUBSCRIPTION_INACTIVE";
    public static final String FEATURE_NOT_IN_PLAN = "FEATURE_NOT_IN_PLAN";
    public static final String INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE";
    public static final String USAGE_DATA_STALE = "USAGE_DATA_STALE";

    private final Supplier<ModePolicy> modes;
    private final StalePolicy stalePolicy;

    /** The enforcement policy in force now. */
    public ModePolicy modes() {
        return modes.get();
    }

    /** @param modes the policy in force, read once per check (runtime enforcement replaces it) */
    public CheckEvaluator(Supplier<ModePolicy> modes, StalePolicy stalePolicy) {
        this.modes = modes;
        this.stalePolicy = stalePolicy;
    }

    public CheckEvaluator(ModePolicy modes, StalePolicy stalePolicy) {
        this(() -> modes, stalePolicy);
    }

    public StalePolicy stalePolicy() {
        return stalePolicy;
    }

    public CheckResult check(CheckRequest req, BillingAccount account, UsageReader reader, Freshness freshness,
                             Instant now) {
        return check(req, account, reader, Holds.NONE, freshness, now);
    }

    /** A check that counts {@code used + held + requested} against each limit and the prepaid balance. */
    public CheckResult check(CheckRequest req, BillingAccount account, UsageReader reader, Holds holds,
                             Freshness freshness, Instant now) {
        Plan plan = account.plan();
        Subscription sub = account.subscription();
        EnforcementMode mode = modes.get().modeFor(req.orgId(), sub == null ? null : sub.enforcement());

        if (sub != null && !sub.status().isUsable()) {
            return refusedBeforeUsage(req, plan, mode, freshness, SUBSCRIPTION_INACTIVE,
                    "The subscription is " + sub.status().wireName() + "; " + req.feature() + " is not available", 403);
        }
        if (!plan.allowsFeature(req.feature())) {
            return refusedBeforeUsage(req, plan, mode, freshness, FEATURE_NOT_IN_PLAN,
                    req.feature() + " is not included in plan " + plan.id(), 403);
        }

        // A limit whose scope needs a dimension the caller did not send cannot be evaluated:
        // silently skipping it is how a per-user cap stops counting. Hard ones refuse the request
        // in enforce mode; otherwise the answer carries a warning.
        List<PlanLimit> applicable = new ArrayList<>();
        List<String> warnings = List.of();
        for (PlanLimit l : plan.limits()) {
            if (!l.appliesTo(req.feature())) {
                continue;
            }
            String field = l.scope().requestField();
            if (field != null && req.dimension(field) == null) {
                String problem = "limit " + l.id() + " (scope " + l.scope().wireName() + ", "
                        + l.enforcement().wireName() + ") applies to " + req.feature();
                if (l.enforcement() == Enforcement.HARD && mode == EnforcementMode.ENFORCE) {
                    throw ApiException.badRequest(field, "required: " + problem);
                }
                if (warnings.isEmpty()) {
                    warnings = new ArrayList<>(2);
                }
                warnings.add(field + " is required: " + problem + "; not evaluated"
                        + (l.enforcement() == Enforcement.HARD ? " (enforce mode refuses such a check with 400)" : ""));
                continue;
            }
            applicable.add(l);
        }
        Evaluation ev = evaluate(account, applicable, req, req.userId(), req.conversationId(), reader, holds, now);

        String code = null;
        String message = null;
        int status = 200;
        Long retryAfter = null;
        LimitStatus deciding = null;
        List<LimitStatus> blocking = ev.limits.stream()
                .filter(s -> s.exceeded() && s.definition().enforcement() == Enforcement.HARD).toList();
        if (!blocking.isEmpty()) {
            // The request can pass only once every blocking limit has room: describe the one that
            // frees last (never, when waiting cannot help), the first in catalog order on a tie.
            // (a single blocking limit outside enforce mode needs no retry time: none is answered)
            boolean needRetry = mode == EnforcementMode.ENFORCE || blocking.size() > 1;
            Instant latest = null;
            for (LimitStatus b : blocking) {
                Instant free = needRetry ? freesAt(b, req, account, reader, holds) : null;
                if (deciding == null || free == null || free.isAfter(latest)) {
                    deciding = b;
                    latest = free;
                }
                if (free == null) {
                    break;
                }
            }
            code = deciding.definition().code();
            message = describe(deciding, req);
            status = 429;
            retryAfter = latest == null ? null : secondsUntil(now, latest);
        } else if (plan.prepaid() && ev.balance != null
                && ev.balance.balanceUsd().subtract(holds.costUsd()).subtract(req.costUsd())
                .compareTo(plan.minBalanceUsd()) < 0) {
            code = INSUFFICIENT_BALANCE;
            message = "Balance $" + ev.balance.balanceUsd().toPlainString()
                    + (holds.costUsd().signum() == 0 ? "" : " ($" + holds.costUsd().toPlainString() + " of it held)")
                    + " is below the minimum of $" + plan.minBalanceUsd().toPlainString() + " for plan " + plan.id();
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
                ev.balance == null ? null : ev.balance.balanceUsd(), freshness.usageAsOf(), freshness.stale(),
                deciding != null ? deciding : mostConstraining(ev.limits), List.copyOf(warnings));
    }

    /**
     * When the blocking limit itself has room for the request again; null when waiting cannot
     * help (a request larger than the limit, or a lifetime limit whose usage alone blocks). Room
     * frees in steps: a fixed window's usage leaves at its reset; a rolling window drops its oldest
     * hour at each hour boundary (the hours leaving it are read, one extra statement, only for a
     * blocked rolling limit); an unsettled hold leaves at its expiry, a settled one becomes usage of
     * the current window and leaves with it (the live holds are read one by one, only for a blocked
     * limit with holds). The answer is the first step after which enough has left.
     */
    private static Instant freesAt(LimitStatus s, CheckRequest req, BillingAccount account, UsageReader reader,
                                   Holds holds) {
        PlanLimit l = s.definition();
        BigDecimal requested = requested(l, req);
        boolean fitsEmpty = requested.signum() == 0 ? s.limit().signum() > 0 : requested.compareTo(s.limit()) <= 0;
        if (!fitsEmpty) {
            return null;
        }
        // room once used + held - freed + requested <= limit (requested 0: used + held - freed < limit)
        BigDecimal mustFree = s.used().add(s.held()).add(requested).subtract(s.limit());
        TreeMap<Instant, BigDecimal> steps = new TreeMap<>();
        TimeWindow.Kind kind = l.window().kind();
        // when the usage of the current window has all left (null: never)
        Instant usageGone = null;
        if (s.resetsAt() != null && kind != TimeWindow.Kind.ROLLING_HOURS && kind != TimeWindow.Kind.ROLLING_DAYS) {
            usageGone = s.resetsAt();
            steps.merge(usageGone, s.used(), BigDecimal::add);
        } else if (s.resetsAt() != null) {
            String userId = l.scope() == LimitScope.USER ? req.userId() : null;
            // once every hour of the window has left, it is empty
            usageGone = s.resetsAt().plus(Duration.between(s.windowStart(), s.resetsAt())).minus(Duration.ofHours(1));
            Map<Instant, UsageTotals> hours = reader.hourly(account.orgId(),
                    new UsageSegment(Grain.HOURLY, userId, l.feature(), s.windowStart(), s.resetsAt()));
            if (hours == null) {
                steps.merge(usageGone, s.used(), BigDecimal::add);
            } else {
                BigDecimal inHours = BigDecimal.ZERO;
                Instant hour = s.windowStart();
                for (int k = 0; hour.isBefore(s.resetsAt()); k++, hour = hour.plus(Duration.ofHours(1))) {
                    UsageTotals t = hours.get(hour);
                    if (t != null) {
                        inHours = inHours.add(t.value(l.meter()));
                        steps.merge(s.resetsAt().plus(Duration.ofHours(k)), t.value(l.meter()), BigDecimal::add);
                    }
                }
                // whatever the hourly rows do not show has left once the window is empty
                steps.merge(usageGone, s.used().subtract(inHours).max(BigDecimal.ZERO), BigDecimal::add);
            }
        }
        // the holds come by expiry and none leaves before it expires: a step is complete once the
        // next hold expires after it, so only the holds up to the answer are looked at
        List<Holds.TimedHold> timed = s.held().signum() > 0 && holds.timed() != null ? holds.timed().get() : List.of();
        int next = 0;
        BigDecimal freed = BigDecimal.ZERO;
        while (true) {
            for (; next < timed.size() && (steps.isEmpty() || !timed.get(next).expiresAt().isAfter(steps.firstKey()));
                 next++) {
                Holds.TimedHold t = timed.get(next);
                if (!Holds.counts(t.hold(), l, req.userId(), req.conversationId())) {
                    continue;
                }
                Instant leaves = !t.settled() ? t.expiresAt()
                        : usageGone == null ? null : max(t.expiresAt(), usageGone);
                if (leaves != null) {
                    steps.merge(leaves, amount(l, t.hold().quantity(), t.hold().tokens(), t.hold().costUsd()),
                            BigDecimal::add);
                }
            }
            Map.Entry<Instant, BigDecimal> step = steps.pollFirstEntry();
            if (step == null) {
                return null;
            }
            freed = freed.add(step.getValue());
            int cmp = freed.compareTo(mustFree);
            if (requested.signum() == 0 ? cmp > 0 : cmp >= 0) {
                return step.getKey();
            }
        }
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    /**
     * The limit the RateLimit headers describe when nothing blocks: the hard limit with the
     * smallest share left (then the earliest reset); soft limits only when there is no hard one.
     */
    static LimitStatus mostConstraining(List<LimitStatus> limits) {
        LimitStatus best = null;
        for (LimitStatus s : limits) {
            if (best == null || rank(s, best) < 0) {
                best = s;
            }
        }
        return best;
    }

    private static int rank(LimitStatus a, LimitStatus b) {
        boolean ha = a.definition().enforcement() == Enforcement.HARD;
        boolean hb = b.definition().enforcement() == Enforcement.HARD;
        if (ha != hb) {
            return ha ? -1 : 1;
        }
        // remaining/limit compared without division: ra * lb vs rb * la (a zero limit has no share left)
        int share = a.limit().signum() == 0 || b.limit().signum() == 0
                ? Integer.compare(a.limit().signum(), b.limit().signum())
                : a.remaining().multiply(b.limit()).compareTo(b.remaining().multiply(a.limit()));
        if (share != 0) {
            return share;
        }
        if (a.resetsAt() == null || b.resetsAt() == null) {
            return a.resetsAt() == null ? (b.resetsAt() == null ? 0 : 1) : -1;
        }
        return a.resetsAt().compareTo(b.resetsAt());
    }

    /** Every limit of the org's plan (user-scoped ones only when a user is given) with its usage now. */
    public LimitsReport limits(BillingAccount account, String userId, UsageReader reader, Freshness freshness,
                               Instant now) {
        return limits(account, userId, reader, Holds.NONE, freshness, now);
    }

    /** The same, with {@code held} per limit. */
    public LimitsReport limits(BillingAccount account, String userId, UsageReader reader, Holds holds,
                               Freshness freshness, Instant now) {
        List<PlanLimit> applicable = account.plan().limits().stream()
                .filter(l -> l.scope() == LimitScope.ORG || l.scope() == LimitScope.USER && userId != null).toList();
        Evaluation ev = evaluate(account, applicable, null, userId, null, reader, holds, now);
        BillingPeriod period = BillingPeriod.current(account.subscription(), now);
        return new LimitsReport(account.orgId(), account.plan().id(), period.start(), period.end(), ev.limits,
                ev.balance == null ? null : ev.balance.balanceUsd(), freshness.usageAsOf());
    }

    /** The conversation-scope limits of the org's plan for one conversation, with its usage now (holds not counted). */
    public List<LimitStatus> conversationLimits(BillingAccount account, String conversationId, UsageReader reader,
                                                Instant now) {
        List<PlanLimit> applicable = account.plan().limits().stream()
                .filter(l -> l.scope() == LimitScope.CONVERSATION).toList();
        return applicable.isEmpty() ? List.of()
                : evaluate(account, applicable, null, null, conversationId, reader, Holds.NONE, now).limits;
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
                                String conversationId, UsageReader reader, Holds holds, Instant now) {
        BillingPeriod period = BillingPeriod.current(account.subscription(), now);
        Map<PlanLimit, WindowRange> ranges = new LinkedHashMap<>();
        Map<PlanLimit, List<UsageSegment>> segmentsByLimit = new LinkedHashMap<>();
        Set<UsageSegment> all = new LinkedHashSet<>();
        for (PlanLimit l : limits) {
            WindowRange range = WindowRange.of(l.window(), now, period);
            String user = l.scope() == LimitScope.USER ? userId : null;
            List<UsageSegment> segs = l.scope() == LimitScope.CONVERSATION
                    ? List.of(UsageSegment.conversation(conversationId, l.feature(), range.start(), range.end()))
                    : l.window().kind() == TimeWindow.Kind.LIFETIME
                    ? List.of(new UsageSegment(Grain.LIFETIME, user, l.feature(), range.start(), range.end()))
                    : Segments.decompose(range.start(), range.end(), user, l.feature());
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
            BigDecimal held = holds.held(l, userId, conversationId);
            BigDecimal counted = used.add(held);
            BigDecimal requested = req == null ? BigDecimal.ZERO : requested(l, req);
            boolean exceeded = requested.signum() == 0 ? counted.compareTo(max) >= 0
                    : counted.add(requested).compareTo(max) > 0;
            BigDecimal remaining = max.subtract(counted).max(BigDecimal.ZERO);
            WindowRange range = ranges.get(l);
            statuses.add(new LimitStatus(l, max, used, remaining, range.start(), range.resetsAt(), exceeded, held));
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
        return amount(l, req.quantity(), req.tokens(), req.costUsd());
    }

    /** The amount of a request (or hold) in limit {@code l}'s meter. */
    static BigDecimal amount(PlanLimit l, long quantity, long tokens, BigDecimal costUsd) {
        switch (l.meter()) {
            case EVENTS:
            case QUANTITY:
                return BigDecimal.valueOf(quantity);
            case COST_USD:
                return costUsd;
            default:
                return BigDecimal.valueOf(tokens);
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
                mode, true, plan.id(), List.of(), null, freshness.usageAsOf(), freshness.stale(), null, List.of());
    }

    private static String describe(LimitStatus s, CheckRequest req) {
        PlanLimit l = s.definition();
        String unit = l.meter().isMoney() ? "$" : "";
        String what = unit + s.used().toPlainString()
                + (s.held().signum() == 0 ? "" : " (and " + unit + s.held().toPlainString() + " held)")
                + " of " + unit + s.limit().toPlainString() + (l.meter().isMoney() ? "" : " " + l.meter().wireName());
        return "Limit " + l.id() + " reached: " + what + " used in the current " + l.window() + " window"
                + (l.scope() == LimitScope.USER ? " by user " + req.userId() : "")
                + (l.scope() == LimitScope.CONVERSATION ? " in conversation " + req.conversationId() : "")
                + (s.resetsAt() == null ? "; it never resets" : "; resets at " + s.resetsAt());
    }

    static long secondsUntil(Instant now, Instant then) {
        long millis = Duration.between(now, then).toMillis();
        return millis <= 0 ? 0 : (millis + 999) / 1000;
    }
}
