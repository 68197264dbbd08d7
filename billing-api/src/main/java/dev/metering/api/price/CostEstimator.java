package dev.metering.api.price;

import dev.metering.avro.UsageEvent;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An event's cost as the pipeline will price it, estimated at ingest from the stored price book
 * ({@code metering.model_prices}, what {@code PUT /api/v1/prices} wrote and published). The rules
 * are those of metering-streams' PriceStage and Cost, kept equal by {@code CostEstimatorTest},
 * which prices the same events with the streams classes:
 * {@code costNanos} as given; no tokens and no provider/model: 0; else the version in force at
 * {@code occurredAt} (context tier, cache writes, service tier multiplier rounded once to a whole
 * femto-USD), rounded half-even to nano-USD as the event log shows it. No version in force: no
 * estimate (null), because the pipeline then applies its fallback rate, which only streams knows.
 *
 * <p>The book is held in memory and read again every second and after each price PUT on this
 * instance, so ingest never waits for the database; an estimate may use a book up to a second old.
 *
 * <p>An estimate, not the count: the price book may change before the event is priced, and an
 * event can still be a duplicate or late. The event log and the usage tables are authoritative.
 */
public final class CostEstimator {

    private final PriceRepository repository;
    private volatile Book book = new Book(List.of());

    public CostEstimator(PriceRepository repository) {
        this.repository = repository;
    }

    /** Reads the whole price book again (the API does it every second and after each PUT). */
    public void refresh() {
        book = new Book(repository.all());
    }

    /** The price book as last read: estimating never waits for the database. */
    public Book book() {
        return book;
    }

    /** Price versions by model, each list by ascending effectiveFrom. */
    public static final class Book {
        private final Map<String, List<PriceVersion>> byKey = new HashMap<>();

        public Book(List<PriceVersion> versions) {
            for (PriceVersion v : versions) {
                byKey.computeIfAbsent(v.key(), k -> new ArrayList<>()).add(v);
            }
            byKey.values().forEach(l -> l.sort(Comparator.comparing(PriceVersion::effectiveFrom)));
        }

        /** The estimated cost in USD with 9 decimals, or null when no price is in force for the event's model. */
        public BigDecimal estimate(UsageEvent e) {
            if (e.getCostNanos() != null) {
                return BigDecimal.valueOf(e.getCostNanos(), 9);
            }
            boolean hasTokens = e.getInputTokens() > 0 || e.getOutputTokens() > 0 || e.getCachedInputTokens() > 0
                    || e.getCacheWriteTokens() > 0;
            if (!hasTokens && e.getProvider() == null && e.getModel() == null) {
                return BigDecimal.ZERO.setScale(9);
            }
            PriceVersion v = inForce(byKey.get(e.getProvider() + "/" + e.getModel()), e);
            return v == null ? null : cost(e, v).setScale(9, RoundingMode.HALF_EVEN);
        }

        private static PriceVersion inForce(List<PriceVersion> versions, UsageEvent e) {
            PriceVersion found = null;
            if (versions != null) {
                for (PriceVersion v : versions) {
                    if (v.effectiveFrom().isAfter(e.getOccurredAt())) {
                        break;
                    }
                    found = v;
                }
            }
            return found;
        }
    }

    /** The exact cost in USD (at most 15 decimals: whole femto-USD). */
    static BigDecimal cost(UsageEvent e, PriceVersion p) {
        PriceVersion.ContextTier tier = contextTier(e, p);
        BigDecimal in = tier == null ? p.inputPer1mUsd() : tier.inputPer1mUsd();
        BigDecimal cached = tier == null ? p.cachedInputPer1mUsd() : tier.cachedInputPer1mUsd();
        BigDecimal cacheWrite = tier == null ? p.cacheWritePer1mUsd() : tier.cacheWritePer1mUsd();
        BigDecimal out = tier == null ? p.outputPer1mUsd() : tier.outputPer1mUsd();
        BigDecimal perMillion = BigDecimal.valueOf(e.getInputTokens()).multiply(in)
                .add(BigDecimal.valueOf(e.getCachedInputTokens()).multiply(cached))
                .add(BigDecimal.valueOf(e.getCacheWriteTokens()).multiply(cacheWrite == null ? in : cacheWrite))
                .add(BigDecimal.valueOf(e.getOutputTokens()).multiply(out));
        BigDecimal usd = perMillion.movePointLeft(6);
        if (p.unitUsd() != null) {
            usd = usd.add(BigDecimal.valueOf(e.getQuantity()).multiply(p.unitUsd()));
        }
        BigDecimal multiplier = e.getServiceTier() == null ? null
                : p.serviceTiers().get(e.getServiceTier().toLowerCase(Locale.ROOT));
        if (multiplier != null) {
            usd = usd.multiply(multiplier).setScale(15, RoundingMode.HALF_EVEN);
        }
        return usd;
    }

    /** The tier with the highest threshold strictly below the prompt (input + cached + cache-write tokens). */
    private static PriceVersion.ContextTier contextTier(UsageEvent e, PriceVersion p) {
        long prompt = e.getInputTokens() + e.getCachedInputTokens() + e.getCacheWriteTokens();
        PriceVersion.ContextTier applied = null;
        for (PriceVersion.ContextTier t : p.contextTiers()) {
            if (prompt > t.aboveInputTokens() && (applied == null || t.aboveInputTokens() > applied.aboveInputTokens())) {
                applied = t;
            }
        }
        return applied;
    }
}
