package dev.metering.api.plan;

import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A plan of the catalog. {@code features == null} allows every feature. A prepaid plan answers
 * checks only while the org's balance is at least {@code minBalanceUsd}. {@code lowBalanceAlertUsd}:
 * an alert when the balance falls below it (null: none).
 */
public record Plan(
        String id,
        String name,
        BigDecimal priceUsd,
        Set<String> features,
        boolean prepaid,
        BigDecimal minBalanceUsd,
        BigDecimal welcomeCreditUsd,
        List<PlanLimit> limits,
        BigDecimal lowBalanceAlertUsd) {

    public Plan {
        features = features == null ? null : Set.copyOf(features);
        limits = List.copyOf(limits);
    }

    /** A plan without a low-balance alert. */
    public Plan(String id, String name, BigDecimal priceUsd, Set<String> features, boolean prepaid,
                BigDecimal minBalanceUsd, BigDecimal welcomeCreditUsd, List<PlanLimit> limits) {
        this(id, name, priceUsd, features, prepaid, minBalanceUsd, welcomeCreditUsd, limits, null);
    }

    public boolean allowsFeature(String feature) {
        return features == null || features.contains(feature);
    }

    public Optional<PlanLimit> limit(String limitId) {
        return limits.stream().filter(l -> l.id().equals(limitId)).findFirst();
    }
}
