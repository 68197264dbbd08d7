package dev.metering.api.account;

import dev.metering.api.check.CheckResult;
import dev.metering.api.metrics.ApiMetrics;
import dev.metering.api.store.CheckOutcomeRepository;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts check decisions per (UTC day, org, feature, outcome, code) in memory and adds them to
 * {@code check_outcomes_daily} on {@link #flush()}, off the request path. A failed flush puts
 * the counts back for the next one.
 */
public final class CheckOutcomes {

    private static final Logger log = LoggerFactory.getLogger(CheckOutcomes.class);

    private final CheckOutcomeRepository repository;
    private final ConcurrentHashMap<CheckOutcomeRepository.Key, LongAdder> pending = new ConcurrentHashMap<>();

    public CheckOutcomes(CheckOutcomeRepository repository) {
        this.repository = repository;
    }

    public void record(CheckResult r, Instant now) {
        LocalDate day = LocalDate.ofInstant(now, ZoneOffset.UTC);
        pending.computeIfAbsent(new CheckOutcomeRepository.Key(day, r.orgId(), r.feature(), ApiMetrics.outcome(r),
                r.code() == null ? "" : r.code()), k -> new LongAdder()).increment();
    }

    public synchronized void flush() {
        Map<CheckOutcomeRepository.Key, Long> batch = new HashMap<>();
        for (CheckOutcomeRepository.Key k : pending.keySet()) {
            LongAdder a = pending.remove(k);
            if (a != null && a.sum() > 0) {
                batch.merge(k, a.sum(), Long::sum);
            }
        }
        try {
            repository.add(batch);
        } catch (RuntimeException e) {
            log.warn("could not store {} check outcome counters, keeping them for the next flush: {}", batch.size(),
                    e.toString());
            batch.forEach((k, n) -> pending.computeIfAbsent(k, x -> new LongAdder()).add(n));
        }
    }
}
