package dev.metering.api.alert;

import dev.metering.api.account.BillingService;
import dev.metering.api.check.BillingAccount;
import dev.metering.api.check.CheckEvaluator;
import dev.metering.api.check.Freshness;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.check.LimitsReport;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.plan.LimitScope;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.store.CreditRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.usage.UsageReader;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds alerts: each pass evaluates the orgs {@link ChangeFeed} names (usage, subscription, grant
 * and catalog changes) with the same limit evaluation as the check, and records every crossing
 * through {@link AlertRepository} (unique keys: any number of instances, restarts and crashes
 * included, record each crossing once). Every minute it also records credits expiring within 7 days.
 * After a restart it evaluates usage of the last {@link #LOOKBACK} of windows.
 *
 * <p>It shares PostgreSQL and the CPU with checks, so its cost per pass is a few statements per
 * {@link #CHUNK} orgs, not per org: accounts and usage of a chunk are read in batches, evaluated in
 * memory, and its crossings recorded in one transaction (an org whose evaluation failed is retried on
 * its own, at most {@link #CHUNK} such a pass). One thread, on the connections it is given.
 */
public final class AlertDetector implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AlertDetector.class);
    static final Duration LOOKBACK = Duration.ofHours(2);
    static final Duration EXPIRY_HORIZON = Duration.ofDays(7);
    static final Duration EXPIRY_SCAN_EVERY = Duration.ofMinutes(1);
    /** Users and conversations of one org evaluated after a subscription, grant or catalog change. */
    static final int MAX_SUBJECTS = 1_000;
    /** Orgs evaluated together: read with one statement per table, recorded in one transaction. */
    static final int CHUNK = 500;

    private final BillingService service;
    private final AlertRepository repository;
    private final SubscriptionRepository subscriptions;
    private final CreditRepository credits;
    private final DSLContext dsl;
    private final ChangeFeed changes;
    private final AlertMetrics metrics;
    private final Clock clock;
    private Instant lastExpiryScan;
    private volatile Runnable onRecorded = () -> { };

    /** @param dsl where the detector reads accounts and usage (the connections alerts may use) */
    public AlertDetector(BillingService service, AlertRepository repository, DSLContext dsl, AlertMetrics metrics,
                         Clock clock) {
        this.service = service;
        this.repository = repository;
        this.dsl = dsl;
        this.subscriptions = new SubscriptionRepository(dsl);
        this.credits = new CreditRepository(dsl);
        this.changes = new ChangeFeed(service, repository, clock);
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
        List<List<Map.Entry<String, ChangeFeed.Work>>> chunks = new ArrayList<>();
        List<Map.Entry<String, ChangeFeed.Work>> fresh = new ArrayList<>();
        List<Map.Entry<String, ChangeFeed.Work>> later = new ArrayList<>();
        for (Map.Entry<String, ChangeFeed.Work> e : changes.next(windowsFrom).entrySet()) {
            // an org whose evaluation failed goes on its own, so one that always fails holds up no
            // other; at most a chunk's worth a pass, so a failed pass is not retried at 500 times the cost
            if (!e.getValue().alone) {
                fresh.add(e);
            } else if (chunks.size() < CHUNK) {
                chunks.add(List.of(e));
            } else {
                later.add(e);
            }
        }
        changes.later(later);
        for (int from = 0; from < fresh.size(); from += CHUNK) {
            chunks.add(fresh.subList(from, Math.min(fresh.size(), from + CHUNK)));
        }
        int recorded = 0;
        List<Map.Entry<String, ChangeFeed.Work>> failed = new ArrayList<>();
        for (List<Map.Entry<String, ChangeFeed.Work>> chunk : chunks) {
            try {
                recorded += evaluate(chunk, windowsFrom, now);
            } catch (RuntimeException ex) {
                failed.addAll(chunk);
                log.warn("alert evaluation of {} org(s) from {} failed: {}", chunk.size(), chunk.get(0).getKey(),
                        ex.toString());
            }
        }
        for (String org : changes.failed(failed)) {
            log.error("alert evaluation of org {} failed {} times: its usage changes up to now are not evaluated again",
                    org, ChangeFeed.MAX_FAILURES);
        }
        if (lastExpiryScan == null || !now.isBefore(lastExpiryScan.plus(EXPIRY_SCAN_EVERY))) {
            recorded += record(repository.expiringWithoutAlert(now, now.plus(EXPIRY_HORIZON), 1_000).stream()
                    .map(Crossings::expiring).toList(), now);
            lastExpiryScan = now;
        }
        return recorded;
    }

    /** What one org's evaluation found: limit crossings, and its balance when it has a low-balance threshold. */
    private record Found(List<Alert> alerts, BigDecimal balance, BigDecimal threshold) {
    }

    private int evaluate(List<Map.Entry<String, ChangeFeed.Work>> chunk, Instant windowsFrom, Instant now) {
        List<String> orgIds = chunk.stream().map(Map.Entry::getKey).toList();
        Map<String, Subscription> subs = subscriptions.findAll(orgIds);
        Map<String, List<CreditGrant>> grants = credits.unexpired(orgIds, now);
        PlanCatalog catalog = service.catalog().catalog();
        Freshness freshness = service.freshness(now);
        Map<String, BillingAccount> accounts = new LinkedHashMap<>();
        Map<String, Subjects> subjects = new LinkedHashMap<>();
        for (Map.Entry<String, ChangeFeed.Work> e : chunk) {
            String orgId = e.getKey();
            Subscription sub = subs.get(orgId);
            Plan plan = sub == null ? catalog.defaultPlan() : catalog.plan(sub.planId()).orElse(catalog.defaultPlan());
            accounts.put(orgId, new BillingAccount(orgId, plan, sub, grants.getOrDefault(orgId, List.of())));
            subjects.put(orgId, subjects(orgId, plan, e.getValue(), windowsFrom));
        }
        // the first evaluation only names the usage the second one reads from memory
        UsageBatch usage = new UsageBatch();
        accounts.forEach((orgId, account) -> find(account, subjects.get(orgId), usage.collecting(), freshness, now));
        usage.fetch(dsl);
        List<Alert> crossings = new ArrayList<>();
        List<String> rearm = new ArrayList<>();
        int recorded = 0;
        for (Map.Entry<String, BillingAccount> e : accounts.entrySet()) {
            String orgId = e.getKey();
            Found found = find(e.getValue(), subjects.get(orgId), usage.reader(), freshness, now);
            crossings.addAll(found.alerts());
            if (found.threshold() != null) {
                BigDecimal b = found.balance();
                if (b.compareTo(found.threshold()) < 0) {
                    if (repository.recordLowBalance(orgId, episode -> Crossings.lowBalance(orgId, b, found.threshold(),
                            episode), now)) {
                        recorded(AlertType.BALANCE_LOW);
                        recorded++;
                    }
                } else {
                    rearm.add(orgId);
                }
            }
        }
        repository.rearmLowBalance(rearm, now);
        return recorded + record(crossings, now);
    }

    private record Subjects(Set<String> users, Set<String> conversations) {
    }

    private Subjects subjects(String orgId, Plan plan, ChangeFeed.Work work, Instant windowsFrom) {
        Set<String> users = alerts(plan, LimitScope.USER) ? work.users : Set.of();
        Set<String> conversations = alerts(plan, LimitScope.CONVERSATION) ? work.conversations : Set.of();
        if (work.whole && (alerts(plan, LimitScope.USER) || alerts(plan, LimitScope.CONVERSATION))) {
            AlertRepository.Subjects recent = repository.recentSubjects(orgId, windowsFrom, MAX_SUBJECTS);
            if (alerts(plan, LimitScope.USER)) {
                users = new LinkedHashSet<>(users);
                users.addAll(recent.users());
            }
            if (alerts(plan, LimitScope.CONVERSATION)) {
                conversations = new LinkedHashSet<>(conversations);
                conversations.addAll(recent.conversations());
            }
        }
        return new Subjects(users, conversations);
    }

    /** The org's crossings (pure: usage comes from {@code reader}). */
    private Found find(BillingAccount account, Subjects subjects, UsageReader reader, Freshness freshness, Instant now) {
        CheckEvaluator evaluator = service.evaluator();
        String orgId = account.orgId();
        Plan plan = account.plan();
        List<Alert> out = new ArrayList<>();
        BigDecimal threshold = plan.lowBalanceAlertUsd();
        BigDecimal balance = null;
        if (alerts(plan, LimitScope.ORG) || threshold != null) {
            LimitsReport report = evaluator.limits(account, null, reader, freshness, now);
            out.addAll(Crossings.limits(orgId, null, plan.id(), report.limits()));
            balance = report.balanceUsd();
        }
        for (String user : subjects.users()) {
            if (!user.isEmpty()) {
                List<LimitStatus> userLimits = evaluator.limits(account, user, reader, freshness, now).limits().stream()
                        .filter(s -> s.definition().scope() == LimitScope.USER).toList();
                out.addAll(Crossings.limits(orgId, user, plan.id(), userLimits));
            }
        }
        for (String conversation : subjects.conversations()) {
            out.addAll(Crossings.limits(orgId, null, conversation, plan.id(),
                    evaluator.conversationLimits(account, conversation, reader, now)));
        }
        if (threshold != null && balance == null) {
            balance = CheckEvaluator.balance(account, reader, now).balanceUsd();
        }
        return new Found(out, balance, threshold);
    }

    private static boolean alerts(Plan plan, LimitScope scope) {
        return plan.limits().stream().anyMatch(l -> l.scope() == scope && !l.alertAt().isEmpty());
    }

    private int record(List<Alert> alerts, Instant now) {
        List<Alert> recorded = repository.recordAll(alerts, now);
        recorded.forEach(a -> recorded(a.type()));
        return recorded.size();
    }

    private void recorded(AlertType type) {
        metrics.recorded(type);
        onRecorded.run();
    }

    @Override
    public void close() {
        // nothing of its own: it runs on the caller's thread
    }
}
