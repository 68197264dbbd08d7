package dev.metering.api.enforcement;

import static dev.metering.db.jooq.Tables.ENFORCEMENT_CHANGES;
import static dev.metering.db.jooq.Tables.ENFORCEMENT_SETTINGS;
import static dev.metering.db.jooq.Tables.ORG_ENFORCEMENT;

import dev.metering.api.audit.Actor;
import dev.metering.api.audit.AuditLog;
import dev.metering.api.check.EnforcementMode;
import dev.metering.db.jooq.tables.records.EnforcementSettingsRecord;
import dev.metering.db.jooq.tables.records.OrgEnforcementRecord;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;

/**
 * Runtime enforcement in PostgreSQL: the global mode and canary percent (one row), per-org modes,
 * and the log of every change. Each change bumps the global row's {@code revision} in the same
 * transaction, so one indexed read tells an instance whether anything changed.
 */
public final class EnforcementRepository {

    /** Everything a check needs, as of {@code revision}. */
    public record Snapshot(long revision, EnforcementMode mode, int canaryPercent, Instant updatedAt, String updatedBy,
                           Map<String, EnforcementMode> orgModes) {
    }

    /** One org's stored mode. */
    public record OrgMode(String orgId, EnforcementMode mode, Instant updatedAt, String updatedBy) {
    }

    public static final String ENVIRONMENT = "environment";

    private final DSLContext dsl;

    public EnforcementRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** Stores the initial global setting unless one exists (the first instance's environment wins). */
    public void seed(EnforcementMode mode, int canaryPercent, Instant now) {
        dsl.transaction(tx -> {
            int inserted = tx.dsl().insertInto(ENFORCEMENT_SETTINGS)
                    .set(ENFORCEMENT_SETTINGS.ID, 1)
                    .set(ENFORCEMENT_SETTINGS.MODE, mode.wireName())
                    .set(ENFORCEMENT_SETTINGS.CANARY_PERCENT, canaryPercent)
                    .set(ENFORCEMENT_SETTINGS.REVISION, 1L)
                    .set(ENFORCEMENT_SETTINGS.UPDATED_AT, utc(now))
                    .set(ENFORCEMENT_SETTINGS.UPDATED_BY, ENVIRONMENT)
                    .onConflictDoNothing().execute();
            if (inserted == 1) {
                log(tx.dsl(), now, ENVIRONMENT, null, mode.wireName(), canaryPercent, null, null);
            }
        });
    }

    public long revision() {
        Long r = dsl.select(ENFORCEMENT_SETTINGS.REVISION).from(ENFORCEMENT_SETTINGS)
                .where(ENFORCEMENT_SETTINGS.ID.eq(1)).fetchOne(ENFORCEMENT_SETTINGS.REVISION);
        return r == null ? 0 : r;
    }

    /** The global row and every org's mode, read in one transaction so they match the revision. */
    public Snapshot load() {
        return dsl.transactionResult(tx -> {
            EnforcementSettingsRecord g = tx.dsl().selectFrom(ENFORCEMENT_SETTINGS)
                    .where(ENFORCEMENT_SETTINGS.ID.eq(1)).fetchOne();
            if (g == null) {
                throw new IllegalStateException("enforcement_settings has no row: seed() first");
            }
            Map<String, EnforcementMode> orgs = new HashMap<>();
            tx.dsl().select(ORG_ENFORCEMENT.ORG_ID, ORG_ENFORCEMENT.MODE).from(ORG_ENFORCEMENT)
                    .forEach(r -> orgs.put(r.value1(), mode(r.value2())));
            return new Snapshot(g.getRevision(), mode(g.getMode()), g.getCanaryPercent(), g.getUpdatedAt().toInstant(),
                    g.getUpdatedBy(), orgs);
        });
    }

    public void setGlobal(EnforcementMode mode, int canaryPercent, Actor actor) {
        String by = actor.keyId();
        Instant now = actor.at();
        dsl.transaction(tx -> {
            EnforcementSettingsRecord before = tx.dsl().selectFrom(ENFORCEMENT_SETTINGS)
                    .where(ENFORCEMENT_SETTINGS.ID.eq(1)).forUpdate().fetchSingle();
            tx.dsl().update(ENFORCEMENT_SETTINGS)
                    .set(ENFORCEMENT_SETTINGS.MODE, mode.wireName())
                    .set(ENFORCEMENT_SETTINGS.CANARY_PERCENT, canaryPercent)
                    .set(ENFORCEMENT_SETTINGS.REVISION, ENFORCEMENT_SETTINGS.REVISION.plus(1))
                    .set(ENFORCEMENT_SETTINGS.UPDATED_AT, utc(now))
                    .set(ENFORCEMENT_SETTINGS.UPDATED_BY, by)
                    .where(ENFORCEMENT_SETTINGS.ID.eq(1)).execute();
            log(tx.dsl(), now, by, null, mode.wireName(), canaryPercent, before.getMode(), before.getCanaryPercent());
            AuditLog.write(tx.dsl(), actor, "enforcement.put", "enforcement", null,
                    global(before.getMode(), before.getCanaryPercent()), global(mode.wireName(), canaryPercent));
        });
    }

    public OrgMode findOrg(String orgId) {
        OrgEnforcementRecord r = dsl.selectFrom(ORG_ENFORCEMENT).where(ORG_ENFORCEMENT.ORG_ID.eq(orgId)).fetchOne();
        return r == null ? null : new OrgMode(orgId, mode(r.getMode()), r.getUpdatedAt().toInstant(), r.getUpdatedBy());
    }

    /** Sets an org's mode; true when the org had none before. */
    public boolean setOrg(String orgId, EnforcementMode mode, Actor actor) {
        String by = actor.keyId();
        Instant now = actor.at();
        return dsl.transactionResult(tx -> {
            bumpRevision(tx.dsl());
            OrgEnforcementRecord before = tx.dsl().selectFrom(ORG_ENFORCEMENT)
                    .where(ORG_ENFORCEMENT.ORG_ID.eq(orgId)).fetchOne();
            tx.dsl().insertInto(ORG_ENFORCEMENT)
                    .set(ORG_ENFORCEMENT.ORG_ID, orgId)
                    .set(ORG_ENFORCEMENT.MODE, mode.wireName())
                    .set(ORG_ENFORCEMENT.UPDATED_AT, utc(now))
                    .set(ORG_ENFORCEMENT.UPDATED_BY, by)
                    .onConflict(ORG_ENFORCEMENT.ORG_ID).doUpdate()
                    .set(ORG_ENFORCEMENT.MODE, mode.wireName())
                    .set(ORG_ENFORCEMENT.UPDATED_AT, utc(now))
                    .set(ORG_ENFORCEMENT.UPDATED_BY, by)
                    .execute();
            log(tx.dsl(), now, by, orgId, mode.wireName(), null, before == null ? null : before.getMode(), null);
            AuditLog.write(tx.dsl(), actor, "org_enforcement.put", "org_enforcement", orgId,
                    before == null ? null : Map.of("mode", before.getMode()), Map.of("mode", mode.wireName()));
            return before == null;
        });
    }

    /** Removes an org's mode; false when it had none (nothing is logged then). */
    public boolean deleteOrg(String orgId, Actor actor) {
        String by = actor.keyId();
        Instant now = actor.at();
        return dsl.transactionResult(tx -> {
            bumpRevision(tx.dsl());
            OrgEnforcementRecord before = tx.dsl().deleteFrom(ORG_ENFORCEMENT)
                    .where(ORG_ENFORCEMENT.ORG_ID.eq(orgId)).returning().fetchOne();
            if (before == null) {
                return false;
            }
            log(tx.dsl(), now, by, orgId, null, null, before.getMode(), null);
            AuditLog.write(tx.dsl(), actor, "org_enforcement.delete", "org_enforcement", orgId,
                    Map.of("mode", before.getMode()), null);
            return true;
        });
    }

    private static Map<String, Object> global(String mode, int canaryPercent) {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("mode", mode);
        out.put("canaryPercent", canaryPercent);
        return out;
    }

    /** The latest changes, newest first. */
    public List<Map<String, Object>> changes(int limit) {
        List<Map<String, Object>> out = new ArrayList<>();
        dsl.selectFrom(ENFORCEMENT_CHANGES).orderBy(ENFORCEMENT_CHANGES.ID.desc()).limit(limit).forEach(r -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("changedAt", r.getChangedAt().toInstant());
            m.put("changedBy", r.getChangedBy());
            m.put("orgId", r.getOrgId());
            m.put("mode", r.getMode());
            m.put("canaryPercent", r.getCanaryPercent());
            m.put("previousMode", r.getPreviousMode());
            m.put("previousCanaryPercent", r.getPreviousCanaryPercent());
            out.add(m);
        });
        return out;
    }

    /** Locks the global row first: concurrent changes serialize on it and the revision always grows. */
    private static void bumpRevision(DSLContext tx) {
        int n = tx.update(ENFORCEMENT_SETTINGS).set(ENFORCEMENT_SETTINGS.REVISION, ENFORCEMENT_SETTINGS.REVISION.plus(1))
                .where(ENFORCEMENT_SETTINGS.ID.eq(1)).execute();
        if (n != 1) {
            throw new IllegalStateException("enforcement_settings has no row: seed() first");
        }
    }

    private static void log(DSLContext tx, Instant now, String by, String orgId, String mode, Integer canaryPercent,
                            String previousMode, Integer previousCanaryPercent) {
        tx.insertInto(ENFORCEMENT_CHANGES)
                .set(ENFORCEMENT_CHANGES.CHANGED_AT, utc(now))
                .set(ENFORCEMENT_CHANGES.CHANGED_BY, by)
                .set(ENFORCEMENT_CHANGES.ORG_ID, orgId)
                .set(ENFORCEMENT_CHANGES.MODE, mode)
                .set(ENFORCEMENT_CHANGES.CANARY_PERCENT, canaryPercent)
                .set(ENFORCEMENT_CHANGES.PREVIOUS_MODE, previousMode)
                .set(ENFORCEMENT_CHANGES.PREVIOUS_CANARY_PERCENT, previousCanaryPercent)
                .execute();
    }

    private static EnforcementMode mode(String wire) {
        return EnforcementMode.fromWireName(wire).orElseThrow(() -> new IllegalStateException("stored mode " + wire));
    }

    private static OffsetDateTime utc(Instant t) {
        return t.atOffset(ZoneOffset.UTC);
    }
}
