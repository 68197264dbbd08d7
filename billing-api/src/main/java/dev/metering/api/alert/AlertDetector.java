package dev.metering.api.alert;

import dev.metering.api.account.AccountCache;
import dev.metering.api.account.BillingService;
import dev.metering.api.check.BillingAccount;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.check.LimitsReport;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.plan.LimitScope;
import dev.metering.api.plan.Plan;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds alerts: each pass evaluates, with the same limit evaluation as the check, the orgs whose
 * usage changed since the previous pass (hourly rows: org and user limits; conversation totals:
 * conversation limits), orgs whose subscription or credit grants changed (a lowered override or a
 * new plan can put usage past a threshold without new usage), and, after a catalog change, every
 * org on a changed plan (in slices of {@link #SWEEP_SLICE} per pass). Every crossing is recorded
 * through {@link AlertRepository} (unique keys: any number of instances, restarts included, record
 * each crossing once). Every minute it also records credits expiring within 7 days.
 *
 * <p>The usage watermark is the newest {@code updated_at} seen, minus an overlap for sink
 * transactions that commit late; within the overlap, a row already evaluated at the same
 * {@code updated_at} is not evaluated again. After a restart the pass looks at usage of the last
 * {@link #LOOKBACK} of windows. Subscription and grant changes are followed by their
 * {@code revision} (one sequence), looking back {@link #REVISION_LOOKBACK} revisions for writes
 * that commit out of order, as the account cache does.
 */
public final class AlertDetector implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AlertDetector.class);
    static final Duration LOOKBACK = Duration.ofHours(2);
    static final Duration OVERLAP = Duration.ofSeconds(30);
    static final Duration EXPIRY_HORIZON = Duration.ofDays(7);
    static final Duration EXPIRY_SCAN_EVERY = Duration.ofMinutes(1);
    static final int MAX_CHANGES_PER_PASS = 50_000;
    static final int REVISION_LOOKBACK = 256;
    static final int SWEEP_SLICE = 1_000;
    /** Users and conversations of one org evaluated after a subscription, grant or catalog change. */
    static final int MAX_SUBJECTS = 1_000;
    /** Orgs evaluated at once: each evaluation mostly waits on PostgreSQL round trips. */
    static final int PARALLELISM = 4;

    private final BillingService service;
    private final AlertRepository repository;
    private final AlertMetrics metrics;
    private final Clock clock;
    private final ExecutorService pool = Executors.newFixedThreadPool(PARALLELISM, r -> {
        Thread t = new Thread(r, "alert-detector");
        t.setDaemon(true);
        return t;
    });

    /** What to evaluate of one org in a pass; {@code whole}: also its recent users and conversations. */
    private static final class Work {
        final Set<String> users = new LinkedHashSet<>();
        final Set<String> conversations = new LinkedHashSet<>();
        final Map<String, Instant> seen = new HashMap<>();
        boolean whole;
    }

    /** A catalog change being swept: the changed plans and the last org id done. */
    private record Sweep(List<String> planIds, String defaultPlanId, String after) {
    }

    private Instant watermark;
    /** (org, user or conversation) rows evaluated within the overlap, by the updated_at evaluated. */
    private final Map<String, Instant> evaluated = new HashMap<>();
    private Long revision;
    private final Set<Long> handledRevisions = new HashSet<>();
    private AccountCache.CatalogState catalog;
    private Sweep sweep;
    private Instant lastExpiryScan;
    private volatile Runnable onRecorded = () -> { };

    public AlertDetector(BillingService service, AlertRepository repository, AlertMetrics metrics, Clock clock) {
        this.service = service;
        this.repository = repository;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Called after each alert this instance records (its deliveries are due from then on). */
    public void onRecorded(Runnable listener) {
        this.onRecorded = listener;
    }

    /** One pass; returns how many alerts this instance recorded. */
    public synchronized int runOnce() {
        Instant now = clock.instant();
        Instant windowsFrom = now.truncatedTo(ChronoUnit.HOURS).minus(LOOKBACK);
        Map<String, Work> orgs = new LinkedHashMap<>();
        Instant since = watermark == null ? null : watermark.minus(OVERLAP);
        Instant newest = watermark;
        for (AlertRepository.Changed c : repository.changedUsage(windowsFrom, since, MAX_CHANGES_PER_PASS)) {
            newest = newest == null || c.updatedAt().isAfter(newest) ? c.updatedAt() : newest;
            String key = c.orgId() + "\u0000u" + c.userId();
            if (!c.updatedAt().equals(evaluated.get(key))) {
                Work w = orgs.computeIfAbsent(c.orgId(), o -> new Work());
                w.users.add(c.userId());
                w.seen.put(key, c.updatedAt());
            }
        }
        for (AlertRepository.ChangedConversation c : repository.changedConversations(windowsFrom, since, MAX_CHANGES_PER_PASS)) {
            newest = newest == null || c.updatedAt().isAfter(newest) ? c.updatedAt() : newest;
            String key = c.orgId() + "\u0000c" + c.conversationId();
            if (!c.updatedAt().equals(evaluated.get(key))) {
                Work w = orgs.computeIfAbsent(c.orgId(), o -> new Work());
                w.conversations.add(c.conversationId());
                w.seen.put(key, c.updatedAt());
            }
        }
        orgChanges(orgs);
        catalogChanges(orgs);

        List<Callable<Integer>> tasks = new ArrayList<>(orgs.size());
        for (Map.Entry<String, Work> e : orgs.entrySet()) {
            tasks.add(() -> {
                try {
                    int n = evaluate(e.getKey(), e.getValue(), windowsFrom, now);
                    synchronized (evaluated) {
                        evaluated.putAll(e.getValue().seen);
                    }
                    return n;
                } catch (RuntimeException ex) {
                    log.warn("alert evaluation of org {} failed: {}", e.getKey(), ex.toString());
                    return 0;
                }
            });
        }
        int recorded = 0;
        try {
            for (Future<Integer> f : pool.invokeAll(tasks)) {
                recorded += f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return recorded;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        watermark = newest;
        if (watermark != null) {
            Instant forgetBefore = watermark.minus(OVERLAP);
            evaluated.values().removeIf(t -> t.isBefore(forgetBefore));
        }
        if (lastExpiryScan == null || !now.isBefore(lastExpiryScan.plus(EXPIRY_SCAN_EVERY))) {
            for (CreditGrant g : repository.expiringWithoutAlert(now, now.plus(EXPIRY_HORIZON), 1_000)) {
                recorded += record(Crossings.expiring(g), now);
            }
            lastExpiryScan = now;
        }
        return recorded;
    }

    /**
     * Orgs whose subscription or grants changed, made through any instance: their cached account
     * is dropped first, so the evaluation reads what was just written.
     */
    private void orgChanges(Map<String, Work> orgs) {
        if (revision == null) {
            // changes before the start are not evaluated again; usage is (the lookback)
            revision = repository.latestOrgRevision();
            repository.orgChangesAfter(Math.max(0, revision - REVISION_LOOKBACK), MAX_CHANGES_PER_PASS)
                    .forEach(c -> handledRevisions.add(c.revision()));
            return;
        }
        for (AlertRepository.OrgChange c : repository.orgChangesAfter(Math.max(0, revision - REVISION_LOOKBACK),
                MAX_CHANGES_PER_PASS)) {
            if (handledRevisions.add(c.revision())) {
                service.cache().invalidateOrg(c.orgId());
                orgs.computeIfAbsent(c.orgId(), o -> new Work()).whole = true;
                revision = Math.max(revision, c.revision());
            }
        }
        long floor = revision - REVISION_LOOKBACK;
        handledRevisions.removeIf(r -> r <= floor);
    }

    /** A new catalog version: every org on a plan whose definition changed, a slice per pass. */
    private void catalogChanges(Map<String, Work> orgs) {
        AccountCache.CatalogState current = service.catalog();
        if (catalog == null) {
            catalog = current;
            return;
        }
        if (current.version() != catalog.version()) {
            List<String> changed = new ArrayList<>();
            for (Plan p : current.catalog().plans()) {
                if (!catalog.catalog().plan(p.id()).equals(Optional.of(p))
                        || p.id().equals(current.catalog().defaultPlanId())
                        && !p.id().equals(catalog.catalog().defaultPlanId())) {
                    changed.add(p.id());
                }
            }
            catalog = current;
            sweep = changed.isEmpty() ? null : new Sweep(changed, current.catalog().defaultPlanId(), "");
        }
        if (sweep != null) {
            List<String> slice = repository.orgsOnPlans(sweep.after(), sweep.planIds(), sweep.defaultPlanId(), SWEEP_SLICE);
            slice.forEach(o -> orgs.computeIfAbsent(o, x -> new Work()).whole = true);
            sweep = slice.size() < SWEEP_SLICE ? null : new Sweep(sweep.planIds(), sweep.defaultPlanId(), slice.get(slice.size() - 1));
        }
    }

    private int evaluate(String orgId, Work work, Instant windowsFrom, Instant now) {
        BillingAccount account = service.account(orgId);
        Plan plan = account.plan();
        int recorded = 0;
        boolean orgAlerts = alerts(plan, LimitScope.ORG);
        boolean userAlerts = alerts(plan, LimitScope.USER);
        boolean conversationAlerts = alerts(plan, LimitScope.CONVERSATION);
        Set<String> users = work.users;
        Set<String> conversations = work.conversations;
        if (work.whole && (userAlerts || conversationAlerts)) {
            AlertRepository.Subjects recent = repository.recentSubjects(orgId, windowsFrom, MAX_SUBJECTS);
            users = new LinkedHashSet<>(users);
            users.addAll(recent.users());
            conversations = new LinkedHashSet<>(conversations);
            conversations.addAll(recent.conversations());
        }
        BigDecimal balance = null;
        if (orgAlerts || plan.lowBalanceAlertUsd() != null) {
            LimitsReport report = service.limits(orgId, null);
            recorded += recordAll(Crossings.limits(orgId, null, plan.id(), report.limits()), now);
            balance = report.balanceUsd();
        }
        if (userAlerts) {
            for (String user : users) {
                if (!user.isEmpty()) {
                    List<LimitStatus> userLimits = service.limits(orgId, user).limits().stream()
                            .filter(s -> s.definition().scope() == LimitScope.USER).toList();
                    recorded += recordAll(Crossings.limits(orgId, user, plan.id(), userLimits), now);
                }
            }
        }
        if (conversationAlerts) {
            for (String conversation : conversations) {
                recorded += recordAll(Crossings.limits(orgId, null, conversation, plan.id(),
                        service.conversationLimits(orgId, conversation)), now);
            }
        }
        BigDecimal threshold = plan.lowBalanceAlertUsd();
        if (threshold != null) {
            if (balance == null) {
                balance = service.balance(orgId).balanceUsd();
            }
            BigDecimal b = balance;
            if (b.compareTo(threshold) < 0) {
                if (repository.recordLowBalance(orgId, episode -> Crossings.lowBalance(orgId, b, threshold, episode), now)) {
                    metrics.recorded(AlertType.BALANCE_LOW);
                    onRecorded.run();
                    recorded++;
                }
            } else {
                repository.rearmLowBalance(orgId, now);
            }
        }
        return recorded;
    }

    private static boolean alerts(Plan plan, LimitScope scope) {
        return plan.limits().stream().anyMatch(l -> l.scope() == scope && !l.alertAt().isEmpty());
    }

    private int recordAll(List<Alert> alerts, Instant now) {
        int n = 0;
        for (Alert a : alerts) {
            n += record(a, now);
        }
        return n;
    }

    private int record(Alert a, Instant now) {
        if (repository.record(a, now)) {
            metrics.recorded(a.type());
            onRecorded.run();
            return 1;
        }
        return 0;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
