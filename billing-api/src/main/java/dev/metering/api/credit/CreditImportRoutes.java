package dev.metering.api.credit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.account.BillingService;
import dev.metering.api.audit.Actor;
import dev.metering.api.bulk.ImportBodies;
import dev.metering.api.bulk.ImportRows;
import dev.metering.api.http.ServiceRoutes;
import io.javalin.Javalin;
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
 * re-run grants nothing twice; the real run reads, sorts and makes the new grants in one transaction
 * holding its orgs' locks, so concurrent imports of the same grants each count what they made; a dry
 * run makes none.
 */
public final class CreditImportRoutes extends ServiceRoutes<BillingService> {

    public CreditImportRoutes(BillingService service, ObjectMapper mapper, Clock clock) {
        super(service, mapper, clock);
    }

    @Override
    protected void routes(Javalin app) {
        app.post("/api/v1/credits/import", ImportBodies.handler(auth, ImportRows.CREDITS, mapper, this::importCredits));
    }

    private Map<String, Object> importCredits(List<ImportRows.Row> rows, boolean dryRun, Actor actor) {
        CreditImport.Result result = service.importCredits(rows, dryRun, actor);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rows", result.rows());
        out.put("valid", result.valid());
        out.put("invalid", ImportBodies.listed(result.invalid()));
        out.put("granted", result.granted().size());
        out.put("unchanged", result.unchanged());
        BigDecimal usd = result.grantedUsd();
        out.put("grantedUsd", usd.signum() == 0 ? "0" : usd.stripTrailingZeros().toPlainString());
        return out;
    }
}
