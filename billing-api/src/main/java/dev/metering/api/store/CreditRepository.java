package dev.metering.api.store;

import static dev.metering.db.jooq.Sequences.BILLING_REVISION;
import static dev.metering.db.jooq.Tables.CREDIT_GRANTS;

import dev.metering.api.audit.Actor;
import dev.metering.api.audit.AuditLog;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.credit.CreditImport;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

/** Prepaid credit grants. */
public final class CreditRepository {

    /** The {@link OrgLocks} namespace of credit imports. */
    private static final String LOCKS = "credit-imports";
    private static final int READ_CHUNK = 1000;

    private final DSLContext dsl;

    public CreditRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** A grant as listed, with the import's {@code grantId} (null for grants made one at a time). */
    public record Listed(CreditGrant grant, String grantId) {
    }

    /** Grants credit, audited in the same transaction. */
    public CreditGrant grant(String orgId, BigDecimal amountUsd, String reason, Instant expiresAt, Actor actor) {
        Instant grantedAt = actor.at();
        return dsl.transactionResult(tx -> {
            long id = tx.dsl().insertInto(CREDIT_GRANTS)
                    .set(CREDIT_GRANTS.ORG_ID, orgId)
                    .set(CREDIT_GRANTS.AMOUNT_USD, amountUsd)
                    .set(CREDIT_GRANTS.REASON, reason)
                    .set(CREDIT_GRANTS.GRANTED_AT, grantedAt.atOffset(ZoneOffset.UTC))
                    .set(CREDIT_GRANTS.EXPIRES_AT, expiresAt == null ? null : expiresAt.atOffset(ZoneOffset.UTC))
                    .set(CREDIT_GRANTS.REVISION, BILLING_REVISION.nextval())
                    .returningResult(CREDIT_GRANTS.ID)
                    .fetchOne(CREDIT_GRANTS.ID);
            Map<String, Object> after = new LinkedHashMap<>();
            after.put("grantId", id);
            after.put("orgId", orgId);
            after.put("amountUsd", amountUsd.toPlainString());
            after.put("reason", reason);
            after.put("expiresAt", expiresAt == null ? null : expiresAt.toString());
            AuditLog.write(tx.dsl(), actor, "credit.grant", "credit", orgId, null, after);
            return new CreditGrant(id, orgId, amountUsd, reason, grantedAt, expiresAt, null);
        });
    }

    /** The amounts already granted under a grant key, by {@link CreditImport#key}, read in chunks (orgs without any are absent). */
    public Map<String, BigDecimal> importedAmounts(List<String> orgIds) {
        return importedAmounts(dsl, orgIds);
    }

    private static Map<String, BigDecimal> importedAmounts(DSLContext dsl, List<String> orgIds) {
        Map<String, BigDecimal> out = new HashMap<>();
        for (int from = 0; from < orgIds.size(); from += READ_CHUNK) {
            dsl.select(CREDIT_GRANTS.ORG_ID, CREDIT_GRANTS.GRANT_ID, CREDIT_GRANTS.AMOUNT_USD).from(CREDIT_GRANTS)
                    .where(CREDIT_GRANTS.ORG_ID.eq(DSL.any(DSL.val(orgIds.subList(from, Math.min(orgIds.size(),
                            from + READ_CHUNK)).toArray(String[]::new)))))
                    .and(CREDIT_GRANTS.GRANT_ID.isNotNull())
                    .forEach(r -> out.put(CreditImport.key(r.value1(), r.value2()), r.value3()));
        }
        return out;
    }

    /**
     * A credit import batch in ONE transaction: locks the orgs against other imports of the same
     * orgs ({@link OrgLocks}), reads the amounts they were granted under grant keys, lets
     * {@code judge} decide, and makes its new grants, statements sent in batches. The result counts
     * exactly what this batch granted, whatever runs beside it.
     */
    public CreditImport.Result importBatch(List<String> orgIds, Function<Map<String, BigDecimal>, CreditImport.Result> judge,
                                           Actor actor) {
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            OrgLocks.lock(t, LOCKS, orgIds);
            CreditImport.Result result = judge.apply(importedAmounts(t, orgIds));
            grantAll(t, result.granted(), actor);
            return result;
        });
    }

    /** Makes {@code grants}; the unique (org, grantId) key still guards against a writer without the locks. */
    private static void grantAll(DSLContext t, List<CreditImport.Grant> grants, Actor actor) {
        var ts = actor.at().atOffset(ZoneOffset.UTC);
        int made = 0;
        for (int from = 0; from < grants.size(); from += 1000) {
            List<org.jooq.Query> queries = new ArrayList<>();
            for (CreditImport.Grant g : grants.subList(from, Math.min(grants.size(), from + 1000))) {
                queries.add(t.insertInto(CREDIT_GRANTS)
                        .set(CREDIT_GRANTS.ORG_ID, g.orgId())
                        .set(CREDIT_GRANTS.AMOUNT_USD, g.amountUsd())
                        .set(CREDIT_GRANTS.REASON, g.reason())
                        .set(CREDIT_GRANTS.GRANTED_AT, ts)
                        .set(CREDIT_GRANTS.EXPIRES_AT, g.expiresAt() == null ? null : g.expiresAt().atOffset(ZoneOffset.UTC))
                        .set(CREDIT_GRANTS.GRANT_ID, g.grantId())
                        .set(CREDIT_GRANTS.REVISION, BILLING_REVISION.nextval())
                        .onConflictDoNothing());
            }
            for (int n : t.batch(queries).execute()) {
                made += n;
            }
        }
        if (made != grants.size()) {
            // an answer counting grants that were not made would be wrong: roll back, a retry finds them made
            throw new IllegalStateException("credit import: " + (grants.size() - made)
                    + " grants were made meanwhile by a writer without the import locks");
        }
        if (made > 0) {
            AuditLog.write(t, actor, "credit.import", "credit", null, null, importSummary(grants, made));
        }
    }

    /** An import as the audit log shows it: counts, the total and the first orgs (bounded). */
    private static Map<String, Object> importSummary(List<CreditImport.Grant> grants, int made) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rows", grants.size());
        out.put("granted", made);
        out.put("amountUsd", grants.stream().map(CreditImport.Grant::amountUsd).reduce(BigDecimal.ZERO, BigDecimal::add)
                .toPlainString());
        out.put("orgIds", grants.stream().map(CreditImport.Grant::orgId).distinct().limit(100).toList());
        return out;
    }

    /** Grants not expired at {@code now} (including ones granted later than now, which do not count yet). */
    public List<CreditGrant> unexpired(String orgId, Instant now) {
        return dsl.selectFrom(CREDIT_GRANTS)
                .where(CREDIT_GRANTS.ORG_ID.eq(orgId))
                .and(CREDIT_GRANTS.EXPIRES_AT.isNull().or(CREDIT_GRANTS.EXPIRES_AT.gt(now.atOffset(ZoneOffset.UTC))))
                .orderBy(CREDIT_GRANTS.GRANTED_AT, CREDIT_GRANTS.ID)
                .fetch(r -> new CreditGrant(r.getId(), r.getOrgId(), r.getAmountUsd(), r.getReason(),
                        r.getGrantedAt().toInstant(), r.getExpiresAt() == null ? null : r.getExpiresAt().toInstant(),
                        r.getWelcomePlanId()));
    }

    /** {@link #unexpired(String, Instant)} for many orgs in one statement; orgs without grants are absent. */
    public Map<String, List<CreditGrant>> unexpired(Collection<String> orgIds, Instant now) {
        return unexpired(dsl, orgIds, now);
    }

    static Map<String, List<CreditGrant>> unexpired(DSLContext dsl, Collection<String> orgIds, Instant now) {
        Map<String, List<CreditGrant>> out = new HashMap<>();
        if (orgIds.isEmpty()) {
            return out;
        }
        dsl.selectFrom(CREDIT_GRANTS)
                .where(CREDIT_GRANTS.ORG_ID.eq(DSL.any(DSL.val(orgIds.toArray(String[]::new)))))
                .and(CREDIT_GRANTS.EXPIRES_AT.isNull().or(CREDIT_GRANTS.EXPIRES_AT.gt(now.atOffset(ZoneOffset.UTC))))
                .orderBy(CREDIT_GRANTS.ORG_ID, CREDIT_GRANTS.GRANTED_AT, CREDIT_GRANTS.ID)
                .forEach(r -> out.computeIfAbsent(r.getOrgId(), k -> new ArrayList<>()).add(new CreditGrant(r.getId(),
                        r.getOrgId(), r.getAmountUsd(), r.getReason(), r.getGrantedAt().toInstant(),
                        r.getExpiresAt() == null ? null : r.getExpiresAt().toInstant(), r.getWelcomePlanId())));
        return out;
    }

    /** The org's grants, expired ones included, newest (highest id) first, below {@code beforeId} when given. */
    public List<Listed> page(String orgId, Long beforeId, int limit) {
        var condition = CREDIT_GRANTS.ORG_ID.eq(orgId);
        if (beforeId != null) {
            condition = condition.and(CREDIT_GRANTS.ID.lt(beforeId));
        }
        return dsl.selectFrom(CREDIT_GRANTS).where(condition).orderBy(CREDIT_GRANTS.ID.desc()).limit(limit)
                .fetch(r -> new Listed(new CreditGrant(r.getId(), r.getOrgId(), r.getAmountUsd(), r.getReason(),
                        r.getGrantedAt().toInstant(), r.getExpiresAt() == null ? null : r.getExpiresAt().toInstant(),
                        r.getWelcomePlanId()), r.getGrantId()));
    }
}
