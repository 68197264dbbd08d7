package dev.metering.api.credit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.account.BillingService;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.Requests;
import dev.metering.api.http.ServiceRoutes;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.util.Set;

/** Prepaid credits of one org: {@code POST /api/v1/orgs/{orgId}/credits} (admin) and its balance. */
public final class CreditRoutes extends ServiceRoutes<BillingService> {

    private static final Set<String> FIELDS = Set.of("amountUsd", "reason", "expiresAt");

    public CreditRoutes(BillingService service, ObjectMapper mapper, Clock clock) {
        super(service, mapper, clock);
    }

    @Override
    protected void routes(Javalin app) {
        app.post("/api/v1/orgs/{orgId}/credits", this::grant);
        app.get("/api/v1/orgs/{orgId}/balance", this::balance);
    }

    private void grant(Context ctx) {
        String org = Requests.orgId(ctx);
        Principal p = auth.requireAdmin(ctx);
        JsonNode body = Requests.jsonObject(ctx, mapper);
        Requests.onlyFields(body, FIELDS);
        JsonNode amountNode = body.get("amountUsd");
        if (amountNode == null || amountNode.isNull()) {
            throw ApiException.badRequest("amountUsd", "required");
        }
        BigDecimal amount = Requests.decimal("amountUsd", amountNode, true);
        String reason = Requests.text(body, "reason", false);
        if (reason != null && reason.length() > 500) {
            throw ApiException.badRequest("reason", "must be at most 500 characters");
        }
        Instant expiresAt = Requests.instant(body, "expiresAt");
        if (expiresAt != null && !expiresAt.isAfter(clock.instant())) {
            throw ApiException.badRequest("expiresAt", "must be in the future");
        }
        ctx.status(201).json(Bodies.grant(service.grant(org, amount, reason == null ? "credit grant" : reason, expiresAt,
                auth.actor(p))));
    }

    private void balance(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.READ);
        ctx.json(Bodies.balance(service.balance(org)));
    }
}
