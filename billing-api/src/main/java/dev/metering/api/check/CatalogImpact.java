package dev.metering.api.check;

import dev.metering.api.credit.CreditGrant;
import dev.metering.api.plan.Enforcement;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.store.CreditRepository;
import dev.metering.api.store.PlanRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.usage.UsageReader;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * How many orgs a catalog blocks right now: orgs with a subscription or usage in the last
 * {@value #ACTIVE_DAYS} days whose org-scoped hard limits are used up under it, evaluated by the
 * check's own {@link CheckEvaluator} (user-scoped limits need a user and are not counted).
 * Shared by {@code PUT /api/v1/plans?dryRun=true} and {@code plans apply --dry-run}.
 */
public final class CatalogImpact {

    static final int ACTIVE_DAYS = 35;

    /** {@code orgs} assessed, the blocked ones. */
    public record Impact(int orgs, Set<String> blocked) {
    }

    /** The same orgs under the catalog in force and under the proposed one. */
    public record Comparison(Impact before, Impact after) {
        public Set<String> newlyBlocked() {
            Set<String> out = new TreeSet<>(after.blocked());
            out.removeAll(before.blocked());
            return out;
        }
    }

    private CatalogImpact() {
    }

    public static Comparison compare(PlanCatalog current, PlanCatalog next, PlanRepository plans,
                                     SubscriptionRepository subscriptions, CreditRepository credits, UsageReader usage,
                                     Instant now) {
        List<String> orgs = plans.activeOrgs(now.minus(Duration.ofDays(ACTIVE_DAYS)));
        CheckEvaluator evaluator = new CheckEvaluator(new ModePolicy(EnforcementMode.ENFORCE, 0), StalePolicy.FAIL_OPEN);
        Set<String> before = new TreeSet<>();
        Set<String> after = new TreeSet<>();
        for (String org : orgs) {
            Subscription sub = subscriptions.find(org).orElse(null);
            var grants = credits.unexpired(org, now);
            if (blocked(evaluator, current, org, sub, grants, usage, now)) {
                before.add(org);
            }
            if (blocked(evaluator, next, org, sub, grants, usage, now)) {
                after.add(org);
            }
        }
        return new Comparison(new Impact(orgs.size(), before), new Impact(orgs.size(), after));
    }

    /**
     * The orgs of {@code next} blocked right now under {@code catalog} with their stored
     * subscription ({@code current}; absent: the default plan) and with the one in {@code next}
     * (a subscription import), with {@code grants}, their unexpired grants (absent: none).
     */
    public static Comparison compareSubscriptions(PlanCatalog catalog, java.util.Map<String, Subscription> current,
                                                  List<Subscription> next,
                                                  java.util.Map<String, List<CreditGrant>> grants, UsageReader usage,
                                                  Instant now) {
        CheckEvaluator evaluator = new CheckEvaluator(new ModePolicy(EnforcementMode.ENFORCE, 0), StalePolicy.FAIL_OPEN);
        Set<String> before = new TreeSet<>();
        Set<String> after = new TreeSet<>();
        for (Subscription sub : next) {
            List<CreditGrant> orgGrants = grants.getOrDefault(sub.orgId(), List.of());
            if (blocked(evaluator, catalog, sub.orgId(), current.get(sub.orgId()), orgGrants, usage, now)) {
                before.add(sub.orgId());
            }
            if (blocked(evaluator, catalog, sub.orgId(), sub, orgGrants, usage, now)) {
                after.add(sub.orgId());
            }
        }
        return new Comparison(new Impact(next.size(), before), new Impact(next.size(), after));
    }

    private static boolean blocked(CheckEvaluator evaluator, PlanCatalog catalog, String org, Subscription sub,
                                   List<CreditGrant> grants, UsageReader usage, Instant now) {
        Plan plan = sub == null ? catalog.defaultPlan() : catalog.plan(sub.planId()).orElse(catalog.defaultPlan());
        LimitsReport report = evaluator.limits(new BillingAccount(org, plan, sub, grants), null, usage,
                Freshness.fresh(now), now);
        return report.limits().stream().anyMatch(s -> s.remaining().signum() <= 0
                && s.definition().enforcement() == Enforcement.HARD);
    }
}
