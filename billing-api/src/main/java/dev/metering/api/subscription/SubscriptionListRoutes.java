package dev.metering.api.subscription;

import dev.metering.api.ApiException;
import dev.metering.api.account.BillingService;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Paging;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.RouteModule;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.store.SubscriptionRepository;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.List;

/**
 * {@code GET /api/v1/subscriptions?planId=&status=&limit=&after=} (admin): every subscription in
 * org order, {@code {items, next}}; {@code next} (null on the last page) is an opaque cursor over
 * the last org of the page, so concurrent inserts never repeat or skip an org already listed.
 */
public final class SubscriptionListRoutes implements RouteModule {

    private static final int MAX_ID_LENGTH = 256;

    private final SubscriptionRepository repository;
    private final BillingService service;

    public SubscriptionListRoutes(SubscriptionRepository repository, BillingService service) {
        this.repository = repository;
        this.service = service;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/api/v1/subscriptions", ctx -> list(ctx, auth));
    }

    private void list(Context ctx, Auth auth) {
        auth.requireAdmin(ctx);
        String planId = emptyAsNull(ctx.queryParam("planId"));
        if (planId != null && planId.length() > MAX_ID_LENGTH) {
            throw ApiException.badRequest("planId", "must be at most " + MAX_ID_LENGTH + " characters");
        }
        String statusText = emptyAsNull(ctx.queryParam("status"));
        SubscriptionStatus status = statusText == null ? null : SubscriptionStatus.fromWireName(statusText)
                .orElseThrow(() -> ApiException.badRequest("status", "unknown status '" + statusText
                        + "' (expected active, trialing, suspended, expired or canceled)"));
        int limit = Paging.limit(ctx.queryParam("limit"));
        List<Subscription> rows = repository.page(planId, status, Paging.after(ctx, Paging::decodeId), limit + 1);
        PlanCatalog catalog = service.catalog().catalog();
        ctx.json(Paging.page(rows, limit, s -> Bodies.subscription(s, catalog.plan(s.planId()).orElse(null)),
                s -> Paging.encodeId(s.orgId())).body());
    }

    private static String emptyAsNull(String v) {
        return v == null || v.isEmpty() ? null : v;
    }
}
