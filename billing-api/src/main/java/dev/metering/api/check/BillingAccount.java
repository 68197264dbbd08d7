package dev.metering.api.check;

import dev.metering.api.credit.CreditGrant;
import dev.metering.api.plan.Plan;
import dev.metering.api.subscription.Subscription;
import java.util.List;
import java.util.Objects;

/** What the evaluator needs to know about an org besides usage. {@code subscription} null: on the default plan. */
public record BillingAccount(String orgId, Plan plan, Subscription subscription, List<CreditGrant> grants) {
    public BillingAccount {
        Objects.requireNonNull(orgId, "orgId");
        Objects.requireNonNull(plan, "plan");
        grants = grants == null ? List.of() : List.copyOf(grants);
    }

    public int seats() {
        return subscription == null ? 1 : Math.max(1, subscription.seats());
    }
}
