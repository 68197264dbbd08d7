package dev.metering.api.subscription;

import dev.metering.api.ApiException;
import dev.metering.api.account.BillingService;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Paging;
import dev.metering.api.http.Requests;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.RouteModule;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.store.SubscriptionRepository;
import io.javalin.Javalin;
import io.javalin.http.Context;

/**
 * {@code GET /api/v1/subscriptions?planId=&status=&limit=&after=} (admin): every subscription in
 * org order, {@code {items, next}}; {@code next} (null on the last page) is an opaque cursor over
 * the last org of the page, so concurrent inserts never repeat or skip an org already listed.
 */
public final class SubscriptionListRoutes implements RouteModule {

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
        String planId = Requests.optionalText(ctx, "planId");
        String statusText = ctx.queryParam("status");
        SubscriptionStatus status = statusText == null || statusText.isEmpty() ? null
                : SubscriptionStatus.fromWireName(statusText).orElseThrow(() -> ApiException.badRequest("status", "unknown status '" + statusText
                        + "' (expected active, trialing, suspended, expired or canceled)"));
        PlanCatalog catalog = service.catalog().catalog();
        Paging.answer(ctx, Paging::decodeId, (after, limit) -> repository.page(planId, status, after, limit),
                s -> Bodies.subscription(s, catalog.plan(s.planId()).orElse(null)), s -> Paging.encodeId(s.orgId()));
    }
}
