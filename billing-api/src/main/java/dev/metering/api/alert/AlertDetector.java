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
import java.util.LinkedHashMap;
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
 * Finds alerts: each pass evaluates the orgs whose hourly usage rows changed since the previous
 * pass (and orgs with new credit grants) with the same limit evaluation as the check, and records
 * every crossing through {@link AlertRepository} (unique keys: any number of instances, restarts
 * included, record each crossing once). Every minute it also records credits expiring within 7 days.
 *
 * <p>The watermark is the newest {@code updated_at} seen, minus an overlap for sink transactions
 * that commit late; re-evaluating an org is harmless. After a restart the pass looks at usage rows of
 * the last {@link #LOOKBACK} of windows.
 */
public final class AlertDetector implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AlertDetector.class);
    static final Duration LOOKBACK = Duration.ofHours(2);
    static final Duration OVERLAP = Duration.ofSeconds(30);
    static final Duration EXPIRY_HORIZON = Duration.ofDays(7);
    static final Duration EXPIRY_SCAN_EVERY = Duration.ofMinutes(1);
    static final int MAX_CHANGES_PER_PASS = 5_000;
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

    private Instant watermark;
    private Long grantRevision;
    private Instant lastExpiryScan;

    public AlertDetector(BillingService service, AlertRepository repository, AlertMetrics metrics, Clock clock) {
        this.service = service;
        this.repository = repository;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** One pass; returns how many alerts this instance recorded. */
    public synchronized int runOnce() {
        Instant now = clock.instant();
        int recorded = 0;
        Map<String, Set<String>> orgs = new LinkedHashMap<>();
        List<AlertRepository.Changed> changed = repository.changedUsage(
                now.truncatedTo(ChronoUnit.HOURS).minus(LOOKBACK), watermark == null ? null : watermark.minus(OVERLAP),
                MAX_CHANGES_PER_PASS);
        Instant newest = watermark;
        for (AlertRepository.Changed c : changed) {
            orgs.computeIfAbsent(c.orgId(), o -> new LinkedHashSet<>()).add(c.userId());
            newest = newest == null || c.updatedAt().isAfter(newest) ? c.updatedAt() : newest;
        }
        if (grantRevision == null) {
            grantRevision = repository.latestGrantRevision();
        } else {
            long latest = repository.latestGrantRevision();
            if (latest > grantRevision) {
                repository.orgsWithGrantsAfter(grantRevision, MAX_CHANGES_PER_PASS)
                        .forEach(o -> orgs.computeIfAbsent(o, x -> new LinkedHashSet<>()));
                grantRevision = latest;
            }
        }
        List<Callable<Integer>> tasks = new ArrayList<>(orgs.size());
        for (Map.Entry<String, Set<String>> e : orgs.entrySet()) {
            tasks.add(() -> {
                try {
                    return evaluate(e.getKey(), e.getValue(), now);
                } catch (RuntimeException ex) {
                    log.warn("alert evaluation of org {} failed: {}", e.getKey(), ex.toString());
                    return 0;
                }
            });
        }
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
        if (lastExpiryScan == null || !now.isBefore(lastExpiryScan.plus(EXPIRY_SCAN_EVERY))) {
            for (CreditGrant g : repository.expiringWithoutAlert(now, now.plus(EXPIRY_HORIZON), 1_000)) {
                recorded += record(Crossings.expiring(g), now);
            }
            lastExpiryScan = now;
        }
        return recorded;
    }

    private int evaluate(String orgId, Set<String> users, Instant now) {
        BillingAccount account = service.account(orgId);
        Plan plan = account.plan();
        int recorded = 0;
        boolean orgAlerts = plan.limits().stream().anyMatch(l -> l.scope() == LimitScope.ORG && !l.alertAt().isEmpty());
        boolean userAlerts = plan.limits().stream().anyMatch(l -> l.scope() == LimitScope.USER && !l.alertAt().isEmpty());
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
        BigDecimal threshold = plan.lowBalanceAlertUsd();
        if (threshold != null) {
            if (balance == null) {
                balance = service.balance(orgId).balanceUsd();
            }
            BigDecimal b = balance;
            if (b.compareTo(threshold) < 0) {
                if (repository.recordLowBalance(orgId, episode -> Crossings.lowBalance(orgId, b, threshold, episode), now)) {
                    metrics.recorded(AlertType.BALANCE_LOW);
                    recorded++;
                }
            } else {
                repository.rearmLowBalance(orgId, now);
            }
        }
        return recorded;
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
            return 1;
        }
        return 0;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
