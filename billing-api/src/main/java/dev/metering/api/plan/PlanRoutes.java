package dev.metering.api.plan;

import dev.metering.api.ApiException;
import dev.metering.api.account.AccountCache;
import dev.metering.api.account.BillingService;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The plan catalog: {@code GET /api/v1/plans} (parsed, or the stored source with
 * {@code ?format=source} or a YAML {@code Accept}) and {@code PUT /api/v1/plans} (admin; with
 * {@code ?dryRun=true} it validates and reports the impact without storing).
 */
public final class PlanRoutes implements RouteModule {

    private final BillingService service;
    private final Clock clock;
    private Auth auth;

    public PlanRoutes(BillingService service, Clock clock) {
        this.service = service;
        this.clock = clock;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        this.auth = auth;
        app.get("/api/v1/plans", this::get);
        app.put("/api/v1/plans", this::put);
    }

    private void get(Context ctx) {
        auth.requireAny(ctx, Scope.READ);
        AccountCache.CatalogState state = service.catalog();
        if (state.stored() == null) {
            throw ApiException.notFound("no plan catalog has been stored yet: PUT /api/v1/plans");
        }
        String accept = ctx.header("Accept");
        if (accept != null && accept.contains("yaml") || "source".equals(ctx.queryParam("format"))) {
            ctx.contentType(state.stored().format() == CatalogParser.Format.JSON ? "application/json" : "application/yaml")
                    .result(state.stored().source());
            return;
        }
        ctx.json(Bodies.catalog(state.version(), state.stored().createdAt(), state.catalog()));
    }

    private void put(Context ctx) {
        Principal p = auth.requireAdmin(ctx);
        String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase();
        CatalogParser.Format format = contentType.contains("json") ? CatalogParser.Format.JSON : CatalogParser.Format.YAML;
        String source = ctx.body();
        String dryRun = ctx.queryParam("dryRun");
        if (dryRun != null && !dryRun.equals("true") && !dryRun.equals("false")) {
            throw ApiException.badRequest("dryRun", "expected true or false, got '" + dryRun + "'");
        }
        if ("true".equals(dryRun)) {
            var catalog = CatalogParser.parse(source, format);
            var impact = service.impact(catalog);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("valid", true);
            out.put("defaultPlan", catalog.defaultPlanId());
            out.put("plans", catalog.plans().stream().map(Plan::id).toList());
            out.put("unchanged", catalog.equals(service.catalog().catalog()));
            out.put("orgs", impact.after().orgs());
            out.put("blockedNow", impact.after().blocked().size());
            out.put("blockedNowBefore", impact.before().blocked().size());
            out.put("newlyBlocked", impact.newlyBlocked().stream().limit(100).toList());
            ctx.json(out);
            return;
        }
        long version = service.putCatalog(source, format, auth.actor(p));
        AccountCache.CatalogState state = service.catalog();
        ctx.json(Bodies.catalog(version, state.stored() == null ? clock.instant() : state.stored().createdAt(),
                state.catalog()));
    }
}
