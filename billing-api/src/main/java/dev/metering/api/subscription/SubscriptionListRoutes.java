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
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
        String after = emptyAsNull(ctx.queryParam("after"));
        List<Subscription> rows = repository.page(planId, status, after == null ? null : decode(after), limit + 1);
        boolean more = rows.size() > limit;
        List<Subscription> page = more ? rows.subList(0, limit) : rows;
        PlanCatalog catalog = service.catalog().catalog();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("items", page.stream().map(s -> Bodies.subscription(s, catalog.plan(s.planId()).orElse(null))).toList());
        out.put("next", more ? encode(page.get(page.size() - 1).orgId()) : null);
        ctx.json(out);
    }

    private static String emptyAsNull(String v) {
        return v == null || v.isEmpty() ? null : v;
    }

    static String encode(String orgId) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(orgId.getBytes(StandardCharsets.UTF_8));
    }

    static String decode(String cursor) {
        try {
            String org = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (org.isEmpty() || org.length() > MAX_ID_LENGTH) {
                throw new IllegalArgumentException();
            }
            return org;
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("after", "not a cursor from a previous page's 'next'");
        }
    }
}
