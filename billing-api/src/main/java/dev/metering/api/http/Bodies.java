package dev.metering.api.http;

import dev.metering.api.auth.Scope;
import dev.metering.api.check.CheckResult;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.check.LimitsReport;
import dev.metering.api.credit.Balance;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.plan.PlanLimit;
import dev.metering.api.subscription.Subscription;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON bodies of the contract (docs/contract.md, HTTP API). Money is a decimal string; counts of the
 * counting meters are JSON integers; instants are ISO-8601 UTC.
 */
public final class Bodies {

    private Bodies() {
    }

    public record LimitBody(String id, String feature, String meter, String window, String scope, Object limit,
                            Object used, Object held, Object remaining, Instant resetsAt, String enforcement,
                            boolean exceeded) {
    }

    public record CheckBody(String orgId, String feature, boolean allowed, String code, String message,
                            int suggestedStatus, Long retryAfterSeconds, String mode, boolean wouldBlock, String plan,
                            List<LimitBody> limits, String balanceUsd, Instant usageAsOf, boolean stale,
                            List<String> warnings) {
    }

    public record LimitsBody(String orgId, String plan, Instant periodStart, Instant periodEnd, List<LimitBody> limits,
                             String balanceUsd, Instant usageAsOf) {
    }

    public record BalanceBody(String orgId, String balanceUsd, String grantedUsd, String usedUsd) {
    }

    public record GrantBody(long id, String orgId, String amountUsd, String reason, Instant grantedAt,
                            Instant expiresAt) {
    }

    public record SubscriptionBody(String orgId, String planId, String status, Instant periodStart, Instant periodEnd,
                                   int seats, Map<String, Object> overrides, String enforcement, Instant updatedAt) {
    }

    public record KeyBody(String id, String key, String orgId, List<String> scopes, Instant expiresAt) {
    }

    public record PlanLimitBody(String id, String feature, String meter, String window, String scope, Object max,
                                boolean perSeat, String enforcement, String code) {
    }

    public record PlanBody(String id, String name, String priceUsd, List<String> features, boolean prepaid,
                           String minBalanceUsd, String welcomeCreditUsd, List<PlanLimitBody> limits) {
    }

    public record CatalogBody(long version, String defaultPlan, Instant createdAt, List<PlanBody> plans) {
    }

    /** Canonical decimal string: no exponent, no trailing zeros ("120", "0.009", "120.000000001"). */
    public static String money(BigDecimal v) {
        return v == null ? null : v.signum() == 0 ? "0" : v.stripTrailingZeros().toPlainString();
    }

    /** A limit amount: integer for counting meters, decimal string for cost_usd. */
    public static Object amount(PlanLimit l, BigDecimal v) {
        if (v == null) {
            return null;
        }
        return l.meter().isMoney() ? money(v) : (Object) v.toBigInteger();
    }

    public static LimitBody limit(LimitStatus s) {
        PlanLimit l = s.definition();
        return new LimitBody(l.id(), l.feature(), l.meter().wireName(), l.window().toString(), l.scope().wireName(),
                amount(l, s.limit()), amount(l, s.used()), amount(l, s.held()), amount(l, s.remaining()), s.resetsAt(),
                l.enforcement().wireName(), s.exceeded());
    }

    public static CheckBody check(CheckResult r) {
        return new CheckBody(r.orgId(), r.feature(), r.allowed(), r.code(), r.message(), r.suggestedStatus(),
                r.retryAfterSeconds(), r.mode().wireName(), r.wouldBlock(), r.planId(),
                r.limits().stream().map(Bodies::limit).toList(), money(r.balanceUsd()), r.usageAsOf(), r.stale(),
                r.warnings());
    }

    public static LimitsBody limits(LimitsReport r) {
        return new LimitsBody(r.orgId(), r.planId(), r.periodStart(), r.periodEnd(),
                r.limits().stream().map(Bodies::limit).toList(), money(r.balanceUsd()), r.usageAsOf());
    }

    public static BalanceBody balance(Balance b) {
        return new BalanceBody(b.orgId(), money(b.balanceUsd()), money(b.grantedUsd()), money(b.usedUsd()));
    }

    public static GrantBody grant(CreditGrant g) {
        return new GrantBody(g.id(), g.orgId(), money(g.amountUsd()), g.reason(), g.grantedAt(), g.expiresAt());
    }

    public static SubscriptionBody subscription(Subscription s, Plan plan) {
        Map<String, Object> overrides = new LinkedHashMap<>();
        s.overrides().forEach((id, max) -> overrides.put(id, plan == null ? money(max)
                : plan.limit(id).map(l -> amount(l, max)).orElse(money(max))));
        return new SubscriptionBody(s.orgId(), s.planId(), s.status().wireName(), s.periodStart(), s.periodEnd(),
                s.seats(), overrides, s.enforcement() == null ? null : s.enforcement().wireName(), s.updatedAt());
    }

    public static KeyBody key(String id, String key, String orgId, Set<Scope> scopes, Instant expiresAt) {
        return new KeyBody(id, key, orgId, scopes.stream().map(Scope::wireName).sorted().toList(), expiresAt);
    }

    public static CatalogBody catalog(long version, Instant createdAt, PlanCatalog c) {
        return new CatalogBody(version, c.defaultPlanId(), createdAt, c.plans().stream().map(p -> new PlanBody(
                p.id(), p.name(), money(p.priceUsd()), p.features() == null ? null : p.features().stream().sorted().toList(),
                p.prepaid(), money(p.minBalanceUsd()), money(p.welcomeCreditUsd()),
                p.limits().stream().map(l -> new PlanLimitBody(l.id(), l.feature(), l.meter().wireName(),
                        l.window().toString(), l.scope().wireName(), amount(l, l.max()), l.perSeat(),
                        l.enforcement().wireName(), l.code())).toList())).toList());
    }
}
