package dev.metering.api.account;

import dev.metering.api.ApiException;
import dev.metering.api.auth.ApiKeys;
import dev.metering.api.auth.Scope;
import dev.metering.api.check.BillingAccount;
import dev.metering.api.check.CatalogImpact;
import dev.metering.api.check.CheckEvaluator;
import dev.metering.api.check.CheckRequest;
import dev.metering.api.check.CheckResult;
import dev.metering.api.check.Freshness;
import dev.metering.api.check.LimitsReport;
import dev.metering.api.credit.Balance;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.metrics.ApiMetrics;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.store.ApiKeyRepository;
import dev.metering.api.store.CreditRepository;
import dev.metering.api.store.PlanRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.usage.UsageReader;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** The API's operations, between thin HTTP handlers and the domain/repositories. */
public final class BillingService {

    /** A new key: the only time the key itself exists outside the caller. */
    public record CreatedKey(String id, String key, String orgId, Set<Scope> scopes) {
    }

    private final AccountCache cache;
    private final CheckEvaluator evaluator;
    private final UsageReader usage;
    private final PlanRepository plans;
    private final SubscriptionRepository subscriptions;
    private final CreditRepository credits;
    private final ApiKeyRepository keys;
    private final CheckOutcomes outcomes;
    private final ApiMetrics metrics;
    private final Duration maxStaleness;
    private final Clock clock;

    public BillingService(AccountCache cache, CheckEvaluator evaluator, UsageReader usage, PlanRepository plans,
                          SubscriptionRepository subscriptions, CreditRepository credits, ApiKeyRepository keys,
                          CheckOutcomes outcomes, ApiMetrics metrics, Duration maxStaleness, Clock clock) {
        this.cache = cache;
        this.evaluator = evaluator;
        this.usage = usage;
        this.plans = plans;
        this.subscriptions = subscriptions;
        this.credits = credits;
        this.keys = keys;
        this.outcomes = outcomes;
        this.metrics = metrics;
        this.maxStaleness = maxStaleness;
        this.clock = clock;
    }

    public AccountCache cache() {
        return cache;
    }

    public Freshness freshness(Instant now) {
        return Freshness.of(cache.usageAsOf(), now, maxStaleness);
    }

    public CheckResult check(CheckRequest request) {
        Instant now = clock.instant();
        CheckResult r = evaluator.check(request, cache.account(request.orgId()), usage, freshness(now), now);
        metrics.check(r);
        outcomes.record(r, now);
        return r;
    }

    public LimitsReport limits(String orgId, String userId) {
        Instant now = clock.instant();
        return evaluator.limits(cache.account(orgId), userId, usage, freshness(now), now);
    }

    public Balance balance(String orgId) {
        return CheckEvaluator.balance(cache.account(orgId), usage, clock.instant());
    }

    public AccountCache.CatalogState catalog() {
        return cache.catalog();
    }

    /**
     * Validates and stores a catalog as the next version. Refuses (409) to drop a plan that
     * subscriptions still use: move those orgs first.
     */
    public long putCatalog(String source, CatalogParser.Format format, String actor) {
        PlanCatalog catalog = CatalogParser.parse(source, format);
        Set<String> ids = catalog.plans().stream().map(Plan::id).collect(Collectors.toSet());
        Map<String, Integer> orphaned = plans.subscriptionsOnPlansOtherThan(ids);
        if (!orphaned.isEmpty()) {
            throw ApiException.conflict("the catalog drops plans still used by subscriptions: " + orphaned
                    .entrySet().stream().map(e -> e.getKey() + " (" + e.getValue() + " orgs)")
                    .collect(Collectors.joining(", ")));
        }
        PlanRepository.Stored stored = plans.store(catalog, format, source, actor, clock.instant());
        if (stored.created()) {
            cache.reloadCatalog();
        }
        return stored.version();
    }

    /** Orgs blocked right now under the catalog in force and under {@code next} (a dry run). */
    public CatalogImpact.Comparison impact(PlanCatalog next) {
        return CatalogImpact.compare(cache.catalog().catalog(), next, plans, subscriptions, credits, usage,
                clock.instant());
    }

    public Optional<Subscription> subscription(String orgId) {
        return subscriptions.find(orgId);
    }

    /** Creates or replaces a subscription; the caller validated its fields against the catalog. */
    public SubscriptionRepository.Saved putSubscription(Subscription s) {
        Plan plan = cache.catalog().catalog().plan(s.planId())
                .orElseThrow(() -> ApiException.badRequest("planId", "unknown plan '" + s.planId() + "'"));
        SubscriptionRepository.Saved saved = subscriptions.save(s, plan.welcomeCreditUsd(), clock.instant());
        cache.invalidateOrg(s.orgId());
        return saved;
    }

    public CreditGrant grant(String orgId, BigDecimal amountUsd, String reason, Instant expiresAt) {
        CreditGrant g = credits.grant(orgId, amountUsd, reason, clock.instant(), expiresAt);
        cache.invalidateOrg(orgId);
        return g;
    }

    public CreatedKey createKey(String orgId, Set<Scope> scopes) {
        String key = ApiKeys.newKey();
        String id = ApiKeys.newId();
        keys.insert(id, ApiKeys.sha256(key), orgId, scopes, clock.instant());
        return new CreatedKey(id, key, orgId, scopes);
    }

    public boolean revokeKey(String id) {
        boolean revoked = keys.revoke(id, clock.instant());
        if (revoked) {
            cache.forgetKeys();
        }
        return revoked;
    }

    public BillingAccount account(String orgId) {
        return cache.account(orgId);
    }
}
