package dev.metering.api.subscription;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.account.BillingService;
import dev.metering.api.audit.Actor;
import dev.metering.api.bulk.ImportBodies;
import dev.metering.api.bulk.ImportRows;
import dev.metering.api.http.Routes;
import dev.metering.api.http.ServiceRoutes;
import io.javalin.Javalin;
import java.time.Clock;
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
public final class SubscriptionImportRoutes extends ServiceRoutes<BillingService> {

    /** Lines of enterprise rows without an override listed in the answer (all are counted). */
    static final int MAX_LISTED_LINES = 100;

    public SubscriptionImportRoutes(BillingService service, ObjectMapper mapper, Clock clock) {
        super(service, mapper, clock);
    }

    @Override
    protected void routes(Javalin app) {
        app.post("/api/v1/subscriptions/import", ImportBodies.handler(auth, ImportRows.SUBSCRIPTIONS, mapper,
                this::importSubscriptions));
    }

    private Map<String, Object> importSubscriptions(List<ImportRows.Row> rows, boolean dryRun, Actor actor) {
        BillingService.SubscriptionImportRun run = service.importSubscriptions(rows, dryRun, actor);
        SubscriptionImport.Validated validated = run.outcome().validated();
        SubscriptionImport.Changes changes = run.outcome().changes();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rows", validated.rows());
        out.put("valid", validated.valid().size());
        out.put("invalid", ImportBodies.listed(validated.invalid()));
        out.put("byPlan", validated.byPlan());
        out.put("created", changes.created().size());
        out.put("replaced", changes.replaced().size());
        out.put("unchanged", changes.unchanged());
        out.put("blockedNow", run.impact().after().blocked().size());
        out.put("blockedNowBefore", run.impact().before().blocked().size());
        out.put("enterpriseWithoutOverride", validated.enterpriseWithoutOverride().size());
        out.put("enterpriseWithoutOverrideLines", validated.enterpriseWithoutOverride().stream()
                .limit(MAX_LISTED_LINES).toList());
        return out;
    }
}
