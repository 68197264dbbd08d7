package dev.metering.api.credit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.account.BillingService;
import dev.metering.api.auth.Principal;
import dev.metering.api.bulk.ImportBodies;
import dev.metering.api.bulk.ImportRows;
import dev.metering.api.http.Auth;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /api/v1/credits/import?dryRun=true|false} (admin): bulk grants from CSV
 * ({@code orgId,amountUsd,reason,expiresAt,grantId}) or JSON lines, bounded as the subscription
 * import. Answers {@code {rows, valid, invalid:[{line, field, message}], granted, unchanged,
 * grantedUsd}}: {@code unchanged} rows were granted before under the same (orgId, grantId), so a
 * re-run grants nothing twice; the new grants are made in one transaction; a dry run makes none.
 */
public final class CreditImportRoutes implements RouteModule {

    private final BillingService service;
    private final ObjectMapper mapper;
    private final Clock clock;

    public CreditImportRoutes(BillingService service, ObjectMapper mapper, Clock clock) {
        this.service = service;
        this.mapper = mapper;
        this.clock = clock;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.post("/api/v1/credits/import", ctx -> importCredits(ctx, auth));
    }

    private void importCredits(Context ctx, Auth auth) throws IOException {
        Principal principal = auth.requireAdmin(ctx);
        boolean dryRun = ImportBodies.dryRun(ctx);
        List<ImportRows.Row> rows = ImportBodies.rows(ctx, ImportRows.CREDITS, mapper);
        List<String> orgs = rows.stream().map(r -> r.values().get("orgId")).filter(o -> o != null).distinct().toList();
        CreditImport.Result result = CreditImport.validate(rows, service.importedGrants(orgs), clock.instant());
        // a concurrent run may have made some of them meanwhile: the unique key skipped those
        int granted = dryRun ? result.granted().size() : service.importGrants(result.granted(),
                auth.actor(principal));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rows", result.rows());
        out.put("valid", result.valid());
        out.put("invalid", ImportBodies.listed(result.invalid()));
        out.put("granted", granted);
        out.put("unchanged", result.unchanged());
        BigDecimal usd = result.grantedUsd();
        out.put("grantedUsd", usd.signum() == 0 ? "0" : usd.stripTrailingZeros().toPlainString());
        ctx.json(out);
    }
}
