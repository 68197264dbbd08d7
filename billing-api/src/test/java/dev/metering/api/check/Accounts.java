package dev.metering.api.check;

import dev.metering.api.credit.CreditGrant;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.subscription.SubscriptionStatus;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Test-data builder: {@code Accounts.on(catalog).org("acme").plan("team").seats(3).build()}. */
public final class Accounts {

    private final PlanCatalog catalog;
    private String orgId = "acme";
    private String planId;
    private SubscriptionStatus status = SubscriptionStatus.ACTIVE;
    private int seats = 1;
    private Instant periodStart = Instant.parse("2026-11-01T00:00:00Z");
    private Instant periodEnd = Instant.parse("2026-12-01T00:00:00Z");
    private Map<String, BigDecimal> overrides = Map.of();
    private EnforcementMode enforcement;
    private final List<CreditGrant> grants = new ArrayList<>();

    private Accounts(PlanCatalog catalog) {
        this.catalog = catalog;
    }

    public static Accounts on(PlanCatalog catalog) {
        return new Accounts(catalog);
    }

    public Accounts org(String id) { this.orgId = id; return this; }
    public Accounts plan(String id) { this.planId = id; return this; }
    public Accounts status(SubscriptionStatus s) { this.status = s; return this; }
    public Accounts seats(int n) { this.seats = n; return this; }
    public Accounts period(String start, String end) {
        this.periodStart = Instant.parse(start);
        this.periodEnd = Instant.parse(end);
        return this;
    }
    public Accounts override(String limitId, String max) { this.overrides = Map.of(limitId, new BigDecimal(max)); return this; }
    public Accounts enforcement(EnforcementMode m) { this.enforcement = m; return this; }
    public Accounts grant(String amount, String at) {
        grants.add(new CreditGrant(grants.size() + 1, orgId, new BigDecimal(amount), "test", Instant.parse(at), null, null));
        return this;
    }

    public BillingAccount build() {
        if (planId == null) {
            return new BillingAccount(orgId, catalog.defaultPlan(), null, grants);
        }
        Subscription sub = new Subscription(orgId, planId, status, periodStart, periodEnd, seats, overrides,
                enforcement, periodStart);
        return new BillingAccount(orgId, catalog.plan(planId).orElseThrow(), sub, grants);
    }
}
