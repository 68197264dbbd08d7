package dev.metering.api.subscription;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.account.BillingService;
import dev.metering.api.auth.Principal;
import dev.metering.api.bulk.ImportBodies;
import dev.metering.api.bulk.ImportRows;
import dev.metering.api.check.CatalogImpact;
import dev.metering.api.http.Auth;
import dev.metering.api.http.RouteModule;
import dev.metering.api.http.Routes;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /api/v1/subscriptions/import?dryRun=true|false} (admin): many subscriptions from CSV
 * ({@code text/csv}) or JSON lines ({@code application/x-ndjson}, {@code application/jsonl}), at most
 * {@link Routes#MAX_IMPORT_BODY_BYTES} and {@link ImportRows#MAX_ROWS} rows. Answers
 * {@code {rows, valid, invalid:[{line, field, message}], byPlan, created, replaced, unchanged,
 * blockedNow, blockedNowBefore, enterpriseWithoutOverride, enterpriseWithoutOverrideLines}}
 * (rows that put an org on an enterprise plan's default limits, the first lines listed); a dry run writes nothing. The real run reads,
 * sorts and writes the valid rows that change something in ONE transaction holding its orgs' locks
 * and leaves invalid rows out (each is listed), so concurrent imports of the same orgs are
 * serialized and each answer counts what it changed; a re-run of the same file changes nothing and
 * a run that failed midway can simply be repeated.
 * {@code blockedNow}/{@code blockedNowBefore}: of the valid rows' orgs, how many the check code
 * finds blocked right now with the imported subscription / with the stored one.
 */
public final class SubscriptionImportRoutes implements RouteModule {

    /** Lines of enterprise rows without an override listed in the answer (all are counted). */
    static final int MAX_LISTED_LINES = 100;

    private final BillingService service;
    private final ObjectMapper mapper;

    public SubscriptionImportRoutes(BillingService service, ObjectMapper mapper) {
        this.service = service;
        this.mapper = mapper;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.post("/api/v1/subscriptions/import", ctx -> importSubscriptions(ctx, auth));
    }

    private void importSubscriptions(Context ctx, Auth auth) throws IOException {
        Principal principal = auth.requireAdmin(ctx);
        boolean dryRun = ImportBodies.dryRun(ctx);
        List<ImportRows.Row> rows = ImportBodies.rows(ctx, ImportRows.SUBSCRIPTIONS, mapper);
        BillingService.SubscriptionImportRun run = service.importSubscriptions(rows, dryRun, auth.actor(principal));
        SubscriptionImport.Validated validated = run.outcome().validated();
        SubscriptionImport.Changes changes = run.outcome().changes();
        CatalogImpact.Comparison impact = run.impact();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rows", validated.rows());
        out.put("valid", validated.valid().size());
        out.put("invalid", ImportBodies.listed(validated.invalid()));
        out.put("byPlan", validated.byPlan());
        out.put("created", changes.created().size());
        out.put("replaced", changes.replaced().size());
        out.put("unchanged", changes.unchanged());
        out.put("blockedNow", impact.after().blocked().size());
        out.put("blockedNowBefore", impact.before().blocked().size());
        out.put("enterpriseWithoutOverride", validated.enterpriseWithoutOverride().size());
        out.put("enterpriseWithoutOverrideLines", validated.enterpriseWithoutOverride().stream()
                .limit(MAX_LISTED_LINES).toList());
        ctx.json(out);
    }
}
