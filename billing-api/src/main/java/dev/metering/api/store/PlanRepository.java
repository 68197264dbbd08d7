package dev.metering.api.store;

import static dev.metering.db.jooq.Tables.PLANS;
import static dev.metering.db.jooq.Tables.PLAN_CATALOGS;
import static dev.metering.db.jooq.Tables.PLAN_LIMITS;
import static dev.metering.db.jooq.Tables.SUBSCRIPTIONS;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.max;

import dev.metering.api.audit.Actor;
import dev.metering.api.audit.AuditLog;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanCatalog;
import dev.metering.api.plan.PlanLimit;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jooq.DSLContext;
import org.jooq.Record;

/** Plan catalog versions: the source as submitted plus relational plans and limits for SQL reports. */
public final class PlanRepository {

    /** A stored catalog version. */
    public record StoredCatalog(long version, CatalogParser.Format format, String source, PlanCatalog catalog,
                                Instant createdAt) {
    }

    private final DSLContext dsl;

    public PlanRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    public long latestVersion() {
        Long v = dsl.select(max(PLAN_CATALOGS.VERSION)).from(PLAN_CATALOGS).fetchOne(0, Long.class);
        return v == null ? 0L : v;
    }

    public Optional<StoredCatalog> latest() {
        Record r = dsl.select(PLAN_CATALOGS.VERSION, PLAN_CATALOGS.FORMAT, PLAN_CATALOGS.SOURCE, PLAN_CATALOGS.CREATED_AT)
                .from(PLAN_CATALOGS).orderBy(PLAN_CATALOGS.VERSION.desc()).limit(1).fetchOne();
        if (r == null) {
            return Optional.empty();
        }
        CatalogParser.Format format = "json".equals(r.get(PLAN_CATALOGS.FORMAT))
                ? CatalogParser.Format.JSON : CatalogParser.Format.YAML;
        String source = r.get(PLAN_CATALOGS.SOURCE);
        return Optional.of(new StoredCatalog(r.get(PLAN_CATALOGS.VERSION), format, source,
                CatalogParser.parse(source, format), r.get(PLAN_CATALOGS.CREATED_AT).toInstant()));
    }

    /** Number of subscriptions per plan id, for plans not in {@code keep}. */
    public Map<String, Integer> subscriptionsOnPlansOtherThan(Set<String> keep) {
        Map<String, Integer> out = new LinkedHashMap<>();
        dsl.select(SUBSCRIPTIONS.PLAN_ID, count()).from(SUBSCRIPTIONS)
                .where(SUBSCRIPTIONS.PLAN_ID.notIn(keep))
                .groupBy(SUBSCRIPTIONS.PLAN_ID).orderBy(SUBSCRIPTIONS.PLAN_ID)
                .forEach(r -> out.put(r.value1(), r.value2()));
        return out;
    }

    /** What {@link #store} did: the version in force, and whether it is a new one. */
    public record Stored(long version, boolean created) {
    }

    /**
     * Orgs a catalog change can affect now: every org with a subscription, and every org with
     * usage since {@code since} (the rest are on the default plan and idle).
     */
    public java.util.List<String> activeOrgs(Instant since) {
        return dsl.fetch("SELECT org_id FROM metering.subscriptions UNION SELECT DISTINCT org_id FROM"
                + " metering.org_usage_daily WHERE window_start >= CAST(? AS timestamptz) ORDER BY 1", since.toString())
                .getValues(0, String.class);
    }

    /**
     * Stores a validated catalog as the next version, unless it equals the one in force (same
     * plans, limits and default plan, whatever its comments or layout): then nothing is written.
     */
    public Stored store(PlanCatalog catalog, CatalogParser.Format format, String source, Actor actor) {
        Instant now = actor.at();
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            // serialise concurrent PUTs: versions are dense and ordered by commit
            t.execute("LOCK TABLE metering.plan_catalogs IN SHARE ROW EXCLUSIVE MODE");
            Optional<StoredCatalog> latest = new PlanRepository(t).latest();
            if (latest.isPresent() && latest.get().catalog().equals(catalog)) {
                return new Stored(latest.get().version(), false);
            }
            long version = latest.map(StoredCatalog::version).orElse(0L) + 1;
            t.insertInto(PLAN_CATALOGS)
                    .set(PLAN_CATALOGS.VERSION, version)
                    .set(PLAN_CATALOGS.FORMAT, format == CatalogParser.Format.JSON ? "json" : "yaml")
                    .set(PLAN_CATALOGS.SOURCE, source)
                    .set(PLAN_CATALOGS.DEFAULT_PLAN, catalog.defaultPlanId())
                    .set(PLAN_CATALOGS.CREATED_AT, now.atOffset(ZoneOffset.UTC))
                    .set(PLAN_CATALOGS.CREATED_BY, actor.keyId())
                    .execute();
            for (Plan p : catalog.plans()) {
                t.insertInto(PLANS)
                        .set(PLANS.CATALOG_VERSION, version)
                        .set(PLANS.PLAN_ID, p.id())
                        .set(PLANS.NAME, p.name())
                        .set(PLANS.PRICE_USD, p.priceUsd())
                        .set(PLANS.FEATURES, p.features() == null ? null : String.join(",", p.features().stream().sorted().toList()))
                        .set(PLANS.PREPAID, p.prepaid())
                        .set(PLANS.MIN_BALANCE_USD, p.minBalanceUsd())
                        .set(PLANS.WELCOME_CREDIT_USD, p.welcomeCreditUsd())
                        .execute();
                int ordinal = 0;
                for (PlanLimit l : p.limits()) {
                    t.insertInto(PLAN_LIMITS)
                            .set(PLAN_LIMITS.CATALOG_VERSION, version)
                            .set(PLAN_LIMITS.PLAN_ID, p.id())
                            .set(PLAN_LIMITS.LIMIT_ID, l.id())
                            .set(PLAN_LIMITS.ORDINAL, ordinal++)
                            .set(PLAN_LIMITS.FEATURE, l.feature())
                            .set(PLAN_LIMITS.METER, l.meter().wireName())
                            .set(PLAN_LIMITS.TIME_WINDOW, l.window().toString())
                            .set(PLAN_LIMITS.SCOPE, l.scope().wireName())
                            .set(PLAN_LIMITS.MAX, l.max())
                            .set(PLAN_LIMITS.PER_SEAT, l.perSeat())
                            .set(PLAN_LIMITS.ENFORCEMENT, l.enforcement().wireName())
                            .set(PLAN_LIMITS.CODE, l.code())
                            .execute();
                }
            }
            AuditLog.write(t, actor, "plans.apply", "plans", Long.toString(version),
                    latest.map(l -> summary(l.version(), l.catalog())).orElse(null), summary(version, catalog));
            return new Stored(version, true);
        });
    }

    /** A catalog as the audit log shows it: its version, default plan and plan ids (the source is in plan_catalogs). */
    private static Map<String, Object> summary(long version, PlanCatalog catalog) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("version", version);
        out.put("defaultPlan", catalog.defaultPlanId());
        out.put("plans", catalog.plans().stream().map(Plan::id).toList());
        return out;
    }
}
