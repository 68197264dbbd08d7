package dev.metering.api.check;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.account.BillingService;
import dev.metering.api.auth.Scope;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.Json;
import dev.metering.api.http.RateLimitHeaders;
import dev.metering.api.http.Requests;
import dev.metering.api.http.ServiceRoutes;
import dev.metering.api.plan.CatalogParser;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.time.Clock;

/**
 * The usage check the chat backend calls before it serves a message
 * ({@code GET /api/v1/usage/{orgId}/check/{feature}}, {@code check} scope) and an org's limits
 * ({@code GET /api/v1/usage/{orgId}/limits}, {@code read} scope).
 */
public final class CheckRoutes extends ServiceRoutes<BillingService> {

    private static final long MAX_COUNT = 1_000_000_000L;

    public CheckRoutes(BillingService service, ObjectMapper mapper, Clock clock) {
        super(service, mapper, clock);
    }

    @Override
    protected void routes(Javalin app) {
        app.get("/api/v1/usage/{orgId}/check/{feature}", this::check);
        app.get("/api/v1/usage/{orgId}/limits", this::limits);
    }

    private void check(Context ctx) throws IOException {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.CHECK);
        String feature = ctx.pathParam("feature");
        if (!CatalogParser.FEATURE_CODE.matcher(feature).matches()) {
            throw ApiException.badRequest("feature", "'" + feature + "' is not a feature code "
                    + CatalogParser.FEATURE_CODE.pattern());
        }
        CheckRequest request = new CheckRequest(org, feature,
                Requests.longParam(ctx, "quantity", 1, MAX_COUNT),
                Requests.longParam(ctx, "tokens", 0, MAX_COUNT),
                Requests.decimalParam(ctx, "costUsd"),
                Requests.optionalText(ctx, "userId"),
                Requests.optionalText(ctx, "conversationId"));
        CheckResult result = service.check(request);
        String[] rateLimit = RateLimitHeaders.of(result, clock.instant());
        if (rateLimit != null) {
            ctx.header(RateLimitHeaders.POLICY, rateLimit[0]);
            ctx.header(RateLimitHeaders.RATE_LIMIT, rateLimit[1]);
        }
        Json.write(ctx, mapper, Bodies.check(result));
    }

    private void limits(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.READ);
        ctx.json(Bodies.limits(service.limits(org, Requests.optionalText(ctx, "userId"))));
    }
}
