package dev.metering.api.subscription;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.account.BillingService;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.Requests;
import dev.metering.api.http.ServiceRoutes;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanLimit;
import dev.metering.api.store.SubscriptionRepository;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One org's subscription: {@code GET /api/v1/orgs/{orgId}/subscription} and {@code PUT} (admin;
 * 201 when it creates one). An omitted period keeps the current one, or starts today for a month.
 */
public final class SubscriptionRoutes extends ServiceRoutes<BillingService> {

    private static final Set<String> FIELDS = Set.of("orgId", "planId", "status", "periodStart",
            "periodEnd", "seats", "overrides", "enforcement");

    public SubscriptionRoutes(BillingService service, ObjectMapper mapper, Clock clock) {
        super(service, mapper, clock);
    }

    @Override
    protected void routes(Javalin app) {
        app.get("/api/v1/orgs/{orgId}/subscription", this::get);
        app.put("/api/v1/orgs/{orgId}/subscription", this::put);
    }

    private void get(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.READ);
        Subscription s = service.subscription(org).orElseThrow(() -> ApiException.notFound(
                "org has no subscription; it is on the default plan '" + service.catalog().catalog().defaultPlanId() + "'"));
        ctx.json(Bodies.subscription(s, service.catalog().catalog().plan(s.planId()).orElse(null)));
    }

    private void put(Context ctx) {
        String org = Requests.orgId(ctx);
        Principal p = auth.requireAdmin(ctx);
        JsonNode body = Requests.jsonObject(ctx, mapper);
        Requests.onlyFields(body, FIELDS);
        String bodyOrg = Requests.text(body, "orgId", false);
        if (bodyOrg != null && !bodyOrg.equals(org)) {
            throw ApiException.badRequest("orgId", "does not match the org in the path");
        }
        String planId = Requests.text(body, "planId", true);
        Plan plan = service.catalog().catalog().plan(planId)
                .orElseThrow(() -> ApiException.badRequest("planId", "unknown plan '" + planId + "'"));
        String statusText = Requests.text(body, "status", false);
        SubscriptionStatus status = statusText == null ? SubscriptionStatus.ACTIVE
                : SubscriptionStatus.fromWireName(statusText).orElseThrow(() -> ApiException.badRequest("status",
                "unknown status '" + statusText + "' (expected active, trialing, suspended, expired or canceled)"));
        Subscription existing = service.subscription(org).orElse(null);
        Instant start = Requests.instant(body, "periodStart");
        Instant end = Requests.instant(body, "periodEnd");
        if (start == null) {
            start = existing != null ? existing.periodStart() : clock.instant().truncatedTo(ChronoUnit.DAYS);
        }
        if (end == null) {
            end = existing != null && body.get("periodStart") == null ? existing.periodEnd()
                    : start.atOffset(ZoneOffset.UTC).plusMonths(1).toInstant();
        }
        if (!end.isAfter(start)) {
            throw ApiException.badRequest("periodEnd", "must be after periodStart");
        }
        int seats = seats(body);
        Map<String, BigDecimal> overrides = overrides(body, plan);
        String enforcementText = Requests.text(body, "enforcement", false);
        EnforcementMode enforcement = enforcementText == null ? null : EnforcementMode.fromWireName(enforcementText)
                .orElseThrow(() -> ApiException.badRequest("enforcement",
                        "unknown mode '" + enforcementText + "' (expected off, shadow or enforce)"));
        SubscriptionRepository.Saved saved = service.putSubscription(new Subscription(org, planId, status, start, end,
                seats, overrides, enforcement, clock.instant()), auth.actor(p));
        ctx.status(saved.created() ? 201 : 200).json(Bodies.subscription(saved.subscription(), plan));
    }

    private static int seats(JsonNode body) {
        JsonNode seatsNode = body.get("seats");
        if (seatsNode == null || seatsNode.isNull()) {
            return 1;
        }
        if (!seatsNode.canConvertToInt() || !seatsNode.isIntegralNumber() || seatsNode.intValue() < 1
                || seatsNode.intValue() > 1_000_000) {
            throw ApiException.badRequest("seats", "expected a whole number from 1 to 1000000");
        }
        return seatsNode.intValue();
    }

    private static Map<String, BigDecimal> overrides(JsonNode body, Plan plan) {
        Map<String, BigDecimal> overrides = new LinkedHashMap<>();
        JsonNode ov = body.get("overrides");
        if (ov == null || ov.isNull()) {
            return overrides;
        }
        if (!ov.isObject()) {
            throw ApiException.badRequest("overrides", "expected an object {limitId: max}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = ov.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String field = "overrides." + e.getKey();
            PlanLimit limit = plan.limit(e.getKey()).orElseThrow(() -> ApiException.badRequest(field,
                    "plan " + plan.id() + " has no limit '" + e.getKey() + "'"));
            BigDecimal max = Requests.decimal(field, e.getValue(), false);
            if (!limit.meter().isMoney() && max.stripTrailingZeros().scale() > 0) {
                throw ApiException.badRequest(field, limit.meter().wireName() + " needs a whole number");
            }
            overrides.put(e.getKey(), max);
        }
        return overrides;
    }
}
