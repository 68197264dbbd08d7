package dev.metering.api.alert;

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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds alerts: each pass evaluates the orgs {@link ChangeFeed} names (usage, subscription, grant
 * and catalog changes) with the same limit evaluation as the check, and records every crossing
 * through {@link AlertRepository} (unique keys: any number of instances, restarts and crashes
 * included, record each crossing once). Every minute it also records credits expiring within 7 days.
 * After a restart it evaluates usage of the last {@link #LOOKBACK} of windows.
 */
public final class AlertDetector implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AlertDetector.class);
    static final Duration LOOKBACK = Duration.ofHours(2);
    static final Duration EXPIRY_HORIZON = Duration.ofDays(7);
    static final Duration EXPIRY_SCAN_EVERY = Duration.ofMinutes(1);
    /** Users and conversations of one org evaluated after a subscription, grant or catalog change. */
    static final int MAX_SUBJECTS = 1_000;
    /** Orgs evaluated at once: each evaluation mostly waits on PostgreSQL round trips. */
    static final int PARALLELISM = 4;

    private final BillingService service;
    private final AlertRepository repository;
    private final ChangeFeed changes;
    private final AlertMetrics metrics;
    private final Clock clock;
    private final ExecutorService pool = Executors.newFixedThreadPool(PARALLELISM, r -> {
        Thread t = new Thread(r, "alert-detector");
        t.setDaemon(true);
        return t;
    });
    private Instant lastExpiryScan;
    private volatile Runnable onRecorded = () -> { };

    public AlertDetector(BillingService service, AlertRepository repository, AlertMetrics metrics, Clock clock) {
        this.service = service;
        this.repository = repository;
        this.changes = new ChangeFeed(service, repository);
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
        Map<String, ChangeFeed.Work> orgs = changes.next(windowsFrom);
        List<Callable<Integer>> tasks = new ArrayList<>(orgs.size());
        for (Map.Entry<String, ChangeFeed.Work> e : orgs.entrySet()) {
            tasks.add(() -> {
                try {
                    int n = evaluate(e.getKey(), e.getValue(), windowsFrom, now);
                    changes.evaluated(e.getValue());
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
        changes.passDone();
        if (lastExpiryScan == null || !now.isBefore(lastExpiryScan.plus(EXPIRY_SCAN_EVERY))) {
            for (CreditGrant g : repository.expiringWithoutAlert(now, now.plus(EXPIRY_HORIZON), 1_000)) {
                recorded += record(Crossings.expiring(g), now);
            }
            lastExpiryScan = now;
        }
        return recorded;
    }

    private int evaluate(String orgId, ChangeFeed.Work work, Instant windowsFrom, Instant now) {
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
