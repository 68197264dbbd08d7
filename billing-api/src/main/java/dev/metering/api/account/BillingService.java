package dev.metering.api.account;

import dev.metering.api.ApiException;
import dev.metering.api.audit.Actor;
import dev.metering.api.auth.ApiKeys;
import dev.metering.api.auth.Scope;
import dev.metering.api.bulk.ImportRows;
import dev.metering.api.check.BillingAccount;
import dev.metering.api.check.CatalogImpact;
import dev.metering.api.check.CheckEvaluator;
import dev.metering.api.check.CheckRequest;
import dev.metering.api.check.CheckResult;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.Freshness;
import dev.metering.api.check.HoldReader;
import dev.metering.api.check.Holds;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.check.LimitsReport;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.credit.Balance;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.credit.CreditImport;
import dev.metering.api.metrics.ApiMetrics;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.store.ApiKeyRepository;
import dev.metering.api.store.CreditRepository;
import dev.metering.api.store.DatabaseBreaker;
import dev.metering.api.store.PlanRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.subscription.SubscriptionImport;
import dev.metering.api.usage.LastKnownUsage;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jooq.exception.DataAccessException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The API's operations, between thin HTTP handlers and the domain/repositories. */
public final class BillingService {

    private static final Logger log = LoggerFactory.getLogger(BillingService.class);

    /** A subscription import's answer: its rows sorted, and the orgs blocked right now before and after. */
    public record SubscriptionImportRun(SubscriptionImport.Outcome outcome, CatalogImpact.Comparison impact) {
    }

    /** A new key: the only time the key itself exists outside the caller. */
    public record CreatedKey(String id, String key, String orgId, Set<Scope> scopes) {
    }

    private final AccountCache cache;
    private final CheckEvaluator evaluator;
    private final LastKnownUsage usage;
    private final PlanRepository plans;
    private final SubscriptionRepository subscriptions;
    private final CreditRepository credits;
    private final ApiKeyRepository keys;
    private final CheckOutcomes outcomes;
    private final ApiMetrics metrics;
    private final Duration maxStaleness;
    private final Clock clock;
    private final DatabaseBreaker breaker;
    private volatile HoldReader holds = HoldReader.NONE;
    /** Only the refresh thread calls {@link #observeFreshness()}. */
    private boolean wasStale;
    private Freshness.Stage wasStalled;

    /**
     * @param usage   the usage reader of checks, remembering what it read for when the database is away
     * @param breaker open while the database is unavailable: checks then answer from {@code usage}'s
     *                and the cache's last known data, stale
     */
    public BillingService(AccountCache cache, CheckEvaluator evaluator, LastKnownUsage usage, DatabaseBreaker breaker,
                          PlanRepository plans, SubscriptionRepository subscriptions, CreditRepository credits,
                          ApiKeyRepository keys, CheckOutcomes outcomes, ApiMetrics metrics, Duration maxStaleness,
                          Clock clock) {
        this.cache = cache;
        this.evaluator = evaluator;
        this.usage = usage;
        this.breaker = breaker;
        this.plans = plans;
        this.subscriptions = subscriptions;
        this.credits = credits;
        this.keys = keys;
        this.outcomes = outcomes;
        this.metrics = metrics;
        this.maxStaleness = maxStaleness;
        this.clock = clock;
    }

    /** Where checks and the limits report read reservation holds (none until set). */
    public void useHolds(HoldReader reader) {
        this.holds = reader;
    }

    public CheckEvaluator evaluator() {
        return evaluator;
    }

    public AccountCache cache() {
        return cache;
    }

    public Freshness freshness(Instant now) {
        Freshness f = Freshness.of(cache.progress(), cache.readAt(), now, maxStaleness);
        return breaker.isOpen() && !f.stale() ? f.databaseDown() : f;
    }

    /**
     * Periodically (after each cache refresh): the per-stage age metrics, and one log line when
     * usage turns stale (naming the stage that stalled and why), changes stage, or is fresh again.
     */
    public void observeFreshness() {
        Instant now = clock.instant();
        Freshness f = freshness(now);
        Freshness.Progress p = cache.progress();
        metrics.pipelineAges(age(p.usageAsOf(), now), age(p.streamsAsOf(), now), age(p.sinkAsOf(), now));
        if (f.stale() == wasStale && f.stalled() == wasStalled) {
            return;
        }
        if (f.stale()) {
            log.warn("STALLED: usage is stale (usageAsOf {}, staleness bound {}): {} stalled: {}", f.usageAsOf(),
                    maxStaleness, f.stalled() == null ? "pipeline" : f.stalled().wireName(), f.reason());
        } else {
            log.info("RECOVERED: usage is fresh again (usageAsOf {})", f.usageAsOf());
        }
        wasStale = f.stale();
        wasStalled = f.stalled();
    }

    private static double age(Instant t, Instant now) {
        return t == null ? -1 : Duration.between(t, now).toMillis() / 1000.0;
    }

    public DatabaseBreaker breaker() {
        return breaker;
    }

    /**
     * Evaluates a check on the database's usage; while the database is unavailable (the breaker is
     * open, or this read finds it away), on the usage and account this instance last read, stale,
     * without waiting for the database.
     */
    public CheckResult check(CheckRequest request) {
        Instant now = clock.instant();
        CheckResult r = null;
        if (!breaker.isOpen()) {
            try {
                BillingAccount account = cache.account(request.orgId());
                Freshness freshness = freshness(now);
                // holds before usage, against the usage snapshot the freshness names
                Holds held = holds.live(request.orgId(), now, cache.progress().usageAsOf());
                r = evaluator.check(request, account, usage, held, freshness, now);
            } catch (DataAccessException e) {
                if (!breaker.tripIfUnavailable(e)) {
                    throw e;
                }
            }
        }
        if (r == null) {
            r = checkWithoutDatabase(request, now);
        }
        metrics.check(r);
        outcomes.record(r, now);
        return r;
    }

    /**
     * The last known account and usage, stale, following the stale policy. An org this instance
     * never loaded: no limits known, so fail-open allows and fail-closed refuses with
     * {@code USAGE_DATA_STALE} (in enforce mode).
     */
    private CheckResult checkWithoutDatabase(CheckRequest request, Instant now) {
        Freshness stale = freshness(now).databaseDown();
        BillingAccount account = cache.lastKnownAccount(request.orgId());
        if (account != null) {
            return evaluator.check(request, account, usage.lastKnown(), stale, now);
        }
        EnforcementMode mode = evaluator.modes().modeFor(request.orgId(), null);
        boolean refuse = evaluator.stalePolicy() == StalePolicy.FAIL_CLOSED;
        boolean allowed = !(refuse && mode == EnforcementMode.ENFORCE);
        return new CheckResult(request.orgId(), request.feature(), allowed,
                refuse ? CheckEvaluator.USAGE_DATA_STALE : null,
                refuse ? "The database is unavailable and this instance has no usage of the org; the stale policy "
                        + "is fail-closed" : null,
                allowed ? 200 : 503, null, mode, refuse, null, List.of(), null, stale.usageAsOf(), true, null, List.of());
    }

    public LimitsReport limits(String orgId, String userId) {
        Instant now = clock.instant();
        BillingAccount account = cache.account(orgId);
        Freshness freshness = freshness(now);
        return evaluator.limits(account, userId, usage, holds.live(orgId, now, cache.progress().usageAsOf()),
                freshness, now);
    }

    /** The conversation-scope limits of the org's plan for {@code conversationId}, with its usage. */
    public List<LimitStatus> conversationLimits(String orgId, String conversationId) {
        return evaluator.conversationLimits(cache.account(orgId), conversationId, usage, clock.instant());
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
    public long putCatalog(String source, CatalogParser.Format format, Actor actor) {
        PlanCatalog catalog = CatalogParser.parse(source, format);
        Set<String> ids = catalog.plans().stream().map(Plan::id).collect(Collectors.toSet());
        Map<String, Integer> orphaned = plans.subscriptionsOnPlansOtherThan(ids);
        if (!orphaned.isEmpty()) {
            throw ApiException.conflict("the catalog drops plans still used by subscriptions: " + orphaned
                    .entrySet().stream().map(e -> e.getKey() + " (" + e.getValue() + " orgs)")
                    .collect(Collectors.joining(", ")));
        }
        PlanRepository.Stored stored = plans.store(catalog, format, source, actor);
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

    /**
     * A subscription import of {@code rows}: sorted against the stored subscriptions and, unless a
     * dry run (lock-free, writes nothing), written in one transaction under the orgs' locks, so the
     * answer counts exactly what it changed; the orgs blocked right now before (with what it found
     * stored) and after (with the imported subscriptions). Written orgs are refreshed.
     */
    public SubscriptionImportRun importSubscriptions(List<ImportRows.Row> rows, boolean dryRun, Actor actor) {
        PlanCatalog catalog = cache.catalog().catalog();
        Instant now = clock.instant();
        List<String> orgs = SubscriptionImport.orgIds(rows);
        Function<Map<String, Subscription>, SubscriptionImport.Outcome> judge =
                existing -> SubscriptionImport.judge(rows, catalog, existing, now);
        SubscriptionRepository.Imported run;
        if (dryRun) {
            SubscriptionRepository.Stored before = subscriptions.stored(orgs, now);
            run = new SubscriptionRepository.Imported(before, judge.apply(before.subscriptions()));
        } else {
            run = subscriptions.importBatch(orgs, now, judge,
                    planId -> catalog.plan(planId).map(Plan::welcomeCreditUsd).orElse(null), actor);
            run.outcome().changes().toWrite().forEach(s -> cache.invalidateOrg(s.orgId()));
        }
        CatalogImpact.Comparison impact = CatalogImpact.compareSubscriptions(catalog, run.before().subscriptions(),
                run.outcome().validated().valid(), run.before().grants(), usage, now);
        return new SubscriptionImportRun(run.outcome(), impact);
    }

    /**
     * A credit import of {@code rows}: sorted against the grants made before under the same (org,
     * grantId) and, unless a dry run (lock-free, makes nothing), made in one transaction under the
     * orgs' locks, so the answer counts exactly what it granted. Orgs granted something are refreshed.
     */
    public CreditImport.Result importCredits(List<ImportRows.Row> rows, boolean dryRun, Actor actor) {
        Instant now = clock.instant();
        List<String> orgs = rows.stream().map(r -> r.values().get("orgId")).filter(o -> o != null).distinct().toList();
        if (dryRun) {
            return CreditImport.validate(rows, credits.importedAmounts(orgs), now);
        }
        CreditImport.Result result = credits.importBatch(orgs, stored -> CreditImport.validate(rows, stored, now), actor);
        result.granted().stream().map(CreditImport.Grant::orgId).distinct().forEach(cache::invalidateOrg);
        return result;
    }

    public Optional<Subscription> subscription(String orgId) {
        return subscriptions.find(orgId);
    }

    /** Creates or replaces a subscription; the caller validated its fields against the catalog. */
    public SubscriptionRepository.Saved putSubscription(Subscription s, Actor actor) {
        Plan plan = cache.catalog().catalog().plan(s.planId())
                .orElseThrow(() -> ApiException.badRequest("planId", "unknown plan '" + s.planId() + "'"));
        SubscriptionRepository.Saved saved = subscriptions.save(s, plan.welcomeCreditUsd(), actor);
        cache.invalidateOrg(s.orgId());
        return saved;
    }

    public CreditGrant grant(String orgId, BigDecimal amountUsd, String reason, Instant expiresAt, Actor actor) {
        CreditGrant g = credits.grant(orgId, amountUsd, reason, expiresAt, actor);
        cache.invalidateOrg(orgId);
        return g;
    }

    /** A new key, valid until {@code expiresAt} (null: until revoked); the caller validated it. */
    public CreatedKey createKey(String orgId, Set<Scope> scopes, Instant expiresAt, Actor actor) {
        String key = ApiKeys.newKey();
        String id = ApiKeys.newId();
        keys.insert(id, ApiKeys.sha256(key), orgId, scopes, expiresAt, actor);
        return new CreatedKey(id, key, orgId, scopes);
    }

    public boolean revokeKey(String id, Actor actor) {
        boolean revoked = keys.revoke(id, actor);
        if (revoked) {
            cache.keys().invalidateAll();
        }
        return revoked;
    }

    public BillingAccount account(String orgId) {
        return cache.account(orgId);
    }
}
