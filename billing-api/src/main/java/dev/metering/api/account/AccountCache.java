package dev.metering.api.account;

import dev.metering.api.auth.ApiKeyCache;
import dev.metering.api.check.BillingAccount;
import dev.metering.api.check.Freshness;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.store.ChangeRepository;
import dev.metering.api.store.CreditRepository;
import dev.metering.api.store.PlanRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.subscription.Subscription;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a check needs besides usage, cached in memory: the plan catalog in force, each org's
 * subscription and credit grants, and the sink's freshness; it also tells the {@link ApiKeyCache}
 * which keys changed.
 *
 * <p>Coherence: writes through this instance invalidate at once; writes through other instances
 * are found by {@link #refresh()} (run every 500 ms) from the {@code revision} columns, which
 * take values from one sequence on every write. Because sequence values can commit out of
 * order, each refresh looks back {@value #LOOKBACK} revisions behind its watermark and skips the
 * revisions it already handled. Entries also expire after {@link #TTL} as a last resort.
 *
 * <p>So that the check path never waits for that expiry, {@link #refresh()} also reloads, in
 * batches of a few statements, the entries older than {@link #RELOAD_AFTER} of orgs checked
 * within {@link #IDLE}, and drops the others. A check only loads an org synchronously the
 * first time, after an invalidation, or when the background reload fell behind by the TTL.
 */
public final class AccountCache {

    static final int LOOKBACK = 256;
    static final Duration TTL = Duration.ofSeconds(60);
    static final Duration RELOAD_AFTER = TTL.dividedBy(2);
    static final Duration IDLE = Duration.ofMinutes(10);
    /** Ids per reload statement. */
    private static final int RELOAD_BATCH = 500;
    /** Refreshes over which the entries aging at once are spread (25 s at 500 ms, within TTL - RELOAD_AFTER). */
    private static final int RELOAD_SPREAD = 50;
    private static final int MAX_ORGS = 500_000;

    /** The catalog in force; version 0 when none was stored yet (every org unlimited). */
    public record CatalogState(long version, PlanRepository.StoredCatalog stored, PlanCatalog catalog) {
    }

    /** Compared by identity: a reload replaces exactly the entry it read, never a newer one. */
    private static final class OrgEntry {
        final Subscription subscription;
        final List<CreditGrant> grants;
        final Instant loadedAt;
        /** Epoch millis of the latest check, updated at most once a second (kept warm while used). */
        volatile long usedAtMillis;

        OrgEntry(Subscription subscription, List<CreditGrant> grants, Instant loadedAt) {
            this.subscription = subscription;
            this.grants = List.copyOf(grants);
            this.loadedAt = loadedAt;
            this.usedAtMillis = loadedAt.toEpochMilli();
        }
    }

    private final PlanRepository plans;
    private final SubscriptionRepository subscriptions;
    private final CreditRepository credits;
    private final ApiKeyCache keys;
    private final ChangeRepository changes;
    private final Clock clock;

    private volatile CatalogState catalog = new CatalogState(0, null, PlanCatalog.unlimited());
    private final ConcurrentHashMap<String, OrgEntry> orgs = new ConcurrentHashMap<>();
    private final AtomicLong invalidations = new AtomicLong();
    private volatile Freshness.Progress progress = Freshness.Progress.NONE;
    /** When the last refresh read the database to the end; null before the first. */
    private volatile Instant readAt;
    private long watermark;
    private final Set<Long> handledRevisions = new HashSet<>();

    public AccountCache(PlanRepository plans, SubscriptionRepository subscriptions, CreditRepository credits,
                        ApiKeyCache keys, ChangeRepository changes, Clock clock) {
        this.plans = plans;
        this.subscriptions = subscriptions;
        this.credits = credits;
        this.keys = keys;
        this.changes = changes;
        this.clock = clock;
    }

    public CatalogState catalog() {
        return catalog;
    }

    public Instant usageAsOf() {
        return progress.usageAsOf();
    }

    /** The pipeline's progress as of the last refresh. */
    public Freshness.Progress progress() {
        return progress;
    }

    /** When a refresh last read the database completely (null: never). */
    public Instant readAt() {
        return readAt;
    }

    /** Polls the database for changes made anywhere; called periodically and after local writes. */
    public synchronized void refresh() {
        long version = plans.latestVersion();
        if (version != catalog.version()) {
            reloadCatalog();
        }
        for (ChangeRepository.Change c : changes.since(Math.max(0, watermark - LOOKBACK))) {
            if (handledRevisions.add(c.revision())) {
                if (c.key()) {
                    keys.invalidate(c.id());
                } else {
                    invalidateOrg(c.id());
                }
                watermark = Math.max(watermark, c.revision());
            }
        }
        handledRevisions.removeIf(r -> r <= watermark - LOOKBACK);
        progress = changes.progress();
        reloadAging(clock.instant());
        readAt = clock.instant();
    }

    /**
     * Reloads, in statements of {@value #RELOAD_BATCH} orgs and at most about 1/{@value #RELOAD_SPREAD}
     * of the cache per refresh, entries older than {@link #RELOAD_AFTER} of orgs used within
     * {@link #IDLE}, and drops those of idle orgs. An entry invalidated or replaced meanwhile is
     * left alone (replace by identity).
     */
    private void reloadAging(Instant now) {
        Instant reloadBefore = now.minus(RELOAD_AFTER);
        long idleBefore = now.minus(IDLE).toEpochMilli();
        // small slices per refresh, so that entries loaded together (a start-up, a burst of new
        // orgs) are not all reloaded in one spike of database work next to the checks
        int budget = Math.max(RELOAD_BATCH, orgs.size() / RELOAD_SPREAD);
        Map<String, OrgEntry> aging = new HashMap<>();
        for (Map.Entry<String, OrgEntry> e : orgs.entrySet()) {
            OrgEntry entry = e.getValue();
            if (!entry.loadedAt.isBefore(reloadBefore)) {
                continue;
            }
            if (entry.usedAtMillis < idleBefore) {
                orgs.remove(e.getKey(), entry);
            } else {
                aging.put(e.getKey(), entry);
                if (aging.size() == RELOAD_BATCH) {
                    reload(aging, now);
                    aging.clear();
                    budget -= RELOAD_BATCH;
                    if (budget <= 0) {
                        return;
                    }
                }
            }
        }
        if (!aging.isEmpty()) {
            reload(aging, now);
        }
    }

    private void reload(Map<String, OrgEntry> aging, Instant now) {
        Map<String, Subscription> subs = subscriptions.findAll(aging.keySet());
        Map<String, List<CreditGrant>> grants = credits.unexpired(aging.keySet(), now);
        aging.forEach((org, old) -> {
            OrgEntry fresh = new OrgEntry(subs.get(org), grants.getOrDefault(org, List.of()), now);
            fresh.usedAtMillis = old.usedAtMillis;
            orgs.replace(org, old, fresh);
        });
    }

    public synchronized void reloadCatalog() {
        catalog = plans.latest()
                .map(s -> new CatalogState(s.version(), s, s.catalog()))
                .orElse(new CatalogState(0, null, PlanCatalog.unlimited()));
    }

    public void invalidateOrg(String orgId) {
        invalidations.incrementAndGet();
        orgs.remove(orgId);
    }

    /** The org's plan (its subscription's, else the catalog's default), subscription and grants. */
    public BillingAccount account(String orgId) {
        OrgEntry e = orgs.get(orgId);
        Instant now = clock.instant();
        if (e == null || e.loadedAt.plus(TTL).isBefore(now)) {
            long before = invalidations.get();
            e = new OrgEntry(subscriptions.find(orgId).orElse(null), credits.unexpired(orgId, now), now);
            if (orgs.size() >= MAX_ORGS) {
                orgs.clear();
            }
            orgs.put(orgId, e);
            if (invalidations.get() != before) {
                // an invalidation raced with this load: do not keep what may be stale
                orgs.remove(orgId, e);
            }
        }
        long nowMillis = now.toEpochMilli();
        if (nowMillis - e.usedAtMillis > 1_000) {
            e.usedAtMillis = nowMillis;
        }
        PlanCatalog cat = catalog.catalog();
        Plan plan = e.subscription == null ? cat.defaultPlan()
                : cat.plan(e.subscription.planId()).orElse(cat.defaultPlan());
        return new BillingAccount(orgId, plan, e.subscription, e.grants);
    }

    /**
     * The org's account as last loaded, however old, without the database (it is away); null when
     * this instance has not loaded it.
     */
    public BillingAccount lastKnownAccount(String orgId) {
        OrgEntry e = orgs.get(orgId);
        if (e == null) {
            return null;
        }
        PlanCatalog cat = catalog.catalog();
        Plan plan = e.subscription == null ? cat.defaultPlan()
                : cat.plan(e.subscription.planId()).orElse(cat.defaultPlan());
        return new BillingAccount(orgId, plan, e.subscription, e.grants);
    }

    public ApiKeyCache keys() {
        return keys;
    }
}
