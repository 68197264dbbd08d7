package dev.metering.api.plan;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The validated plan catalog (plans as code, docs/contract.md, Plan catalog). Immutable. */
public final class PlanCatalog {

    private final String defaultPlan;
    private final Map<String, Plan> plans;

    public PlanCatalog(String defaultPlan, List<Plan> plans) {
        this.defaultPlan = defaultPlan;
        Map<String, Plan> byId = new LinkedHashMap<>();
        plans.forEach(p -> byId.put(p.id(), p));
        this.plans = java.util.Collections.unmodifiableMap(byId);
    }

    public String defaultPlanId() {
        return defaultPlan;
    }

    public Plan defaultPlan() {
        return plans.get(defaultPlan);
    }

    public Optional<Plan> plan(String id) {
        return Optional.ofNullable(plans.get(id));
    }

    public Collection<Plan> plans() {
        return plans.values();
    }

    /** Same default plan and the same plans (limits included) in the same order; comments and layout of the source do not count. */
    @Override
    public boolean equals(Object o) {
        return o instanceof PlanCatalog other && defaultPlan.equals(other.defaultPlan)
                && List.copyOf(plans.values()).equals(List.copyOf(other.plans.values()));
    }

    @Override
    public int hashCode() {
        return defaultPlan.hashCode() * 31 + List.copyOf(plans.values()).hashCode();
    }

    /** The empty catalog in force before any catalog is stored: one unlimited plan. */
    public static PlanCatalog unlimited() {
        return new PlanCatalog("default", List.of(new Plan("default", "Default (no catalog stored)",
                java.math.BigDecimal.ZERO, null, false, java.math.BigDecimal.ZERO,
                java.math.BigDecimal.ZERO, List.of())));
    }
}
