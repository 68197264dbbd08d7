package dev.metering.api.store;

import static dev.metering.db.jooq.Sequences.BILLING_REVISION;
import static dev.metering.db.jooq.Tables.CREDIT_GRANTS;
import static dev.metering.db.jooq.Tables.SUBSCRIPTIONS;
import static dev.metering.db.jooq.Tables.SUBSCRIPTION_OVERRIDES;

import dev.metering.api.audit.Actor;
import dev.metering.api.audit.AuditLog;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.subscription.SubscriptionImport;
import dev.metering.api.subscription.SubscriptionStatus;
import dev.metering.db.jooq.tables.records.CreditGrantsRecord;
import dev.metering.db.jooq.tables.records.SubscriptionsRecord;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.InsertReturningStep;
import org.jooq.Result;
import org.jooq.impl.DSL;

/** Subscriptions, their per-limit overrides and the welcome credit granted with the first one. */
public final class SubscriptionRepository {

    /** What a PUT did: whether the org had no subscription before, and the welcome credit granted now (if any). */
    public record Saved(boolean created, Subscription subscription, Long welcomeGrantId) {
    }

    /** The {@link OrgLocks} namespace of subscription writes. */
    private static final String LOCKS = "subscriptions";
    private static final int READ_CHUNK = 1000;

    private final DSLContext dsl;

    public SubscriptionRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    public Optional<Subscription> find(String orgId) {
        return find(dsl, orgId);
    }

    private static Optional<Subscription> find(DSLContext dsl, String orgId) {
        SubscriptionsRecord r = dsl.selectFrom(SUBSCRIPTIONS).where(SUBSCRIPTIONS.ORG_ID.eq(orgId)).fetchOne();
        if (r == null) {
            return Optional.empty();
        }
        Map<String, BigDecimal> overrides = new LinkedHashMap<>();
        dsl.select(SUBSCRIPTION_OVERRIDES.LIMIT_ID, SUBSCRIPTION_OVERRIDES.MAX).from(SUBSCRIPTION_OVERRIDES)
                .where(SUBSCRIPTION_OVERRIDES.ORG_ID.eq(orgId)).orderBy(SUBSCRIPTION_OVERRIDES.LIMIT_ID)
                .forEach(o -> overrides.put(o.value1(), o.value2()));
        return Optional.of(subscription(r, overrides));
    }

    /**
     * The subscriptions of many orgs in two statements (subscriptions, then their overrides), for
     * the account cache's batched background reload; orgs without one are absent from the map.
     */
    public Map<String, Subscription> findAll(Collection<String> orgIds) {
        return findAll(dsl, orgIds);
    }

    private static Map<String, Subscription> findAll(DSLContext dsl, Collection<String> orgIds) {
        Map<String, Subscription> out = new HashMap<>();
        if (orgIds.isEmpty()) {
            return out;
        }
        Field<String[]> ids = DSL.val(orgIds.toArray(String[]::new));
        Result<SubscriptionsRecord> subs = dsl.selectFrom(SUBSCRIPTIONS).where(SUBSCRIPTIONS.ORG_ID.eq(DSL.any(ids)))
                .fetch();
        Map<String, Map<String, BigDecimal>> overrides = new HashMap<>();
        dsl.select(SUBSCRIPTION_OVERRIDES.ORG_ID, SUBSCRIPTION_OVERRIDES.LIMIT_ID, SUBSCRIPTION_OVERRIDES.MAX)
                .from(SUBSCRIPTION_OVERRIDES).where(SUBSCRIPTION_OVERRIDES.ORG_ID.eq(DSL.any(ids)))
                .orderBy(SUBSCRIPTION_OVERRIDES.ORG_ID, SUBSCRIPTION_OVERRIDES.LIMIT_ID)
                .forEach(o -> overrides.computeIfAbsent(o.value1(), k -> new LinkedHashMap<>()).put(o.value2(), o.value3()));
        for (SubscriptionsRecord r : subs) {
            out.put(r.getOrgId(), subscription(r, overrides.getOrDefault(r.getOrgId(), new LinkedHashMap<>())));
        }
        return out;
    }

    /**
     * Up to {@code limit} subscriptions in org order, after {@code afterOrgId} (exclusive; null from
     * the start), of {@code planId} and {@code status} where given. Keyset paging on the primary
     * key: an org inserted meanwhile shows up on a later page or not at all, never twice.
     */
    public List<Subscription> page(String planId, SubscriptionStatus status, String afterOrgId, int limit) {
        Condition where = DSL.noCondition();
        if (planId != null) {
            where = where.and(SUBSCRIPTIONS.PLAN_ID.eq(planId));
        }
        if (status != null) {
            where = where.and(SUBSCRIPTIONS.STATUS.eq(status.wireName()));
        }
        if (afterOrgId != null) {
            where = where.and(SUBSCRIPTIONS.ORG_ID.gt(afterOrgId));
        }
        List<String> orgs = dsl.select(SUBSCRIPTIONS.ORG_ID).from(SUBSCRIPTIONS).where(where)
                .orderBy(SUBSCRIPTIONS.ORG_ID).limit(limit).fetch(SUBSCRIPTIONS.ORG_ID);
        Map<String, Subscription> found = findAll(orgs);
        return orgs.stream().map(found::get).filter(Objects::nonNull).toList();
    }

    /** The stored subscriptions of some orgs and their unexpired credit grants (orgs without any absent). */
    public record Stored(Map<String, Subscription> subscriptions, Map<String, List<CreditGrant>> grants) {
    }

    /** What an import batch found stored (under its locks) and how it sorted its rows against it. */
    public record Imported(Stored before, SubscriptionImport.Outcome outcome) {
    }

    /** {@link Stored} of {@code orgIds} at {@code now}, read in chunks, without locks (a dry run). */
    public Stored stored(List<String> orgIds, Instant now) {
        return stored(dsl, orgIds, now);
    }

    private static Stored stored(DSLContext dsl, List<String> orgIds, Instant now) {
        Map<String, Subscription> subs = new HashMap<>();
        Map<String, List<CreditGrant>> grants = new HashMap<>();
        for (int from = 0; from < orgIds.size(); from += READ_CHUNK) {
            List<String> chunk = orgIds.subList(from, Math.min(orgIds.size(), from + READ_CHUNK));
            subs.putAll(findAll(dsl, chunk));
            grants.putAll(CreditRepository.unexpired(dsl, chunk, now));
        }
        return new Stored(subs, grants);
    }

    /**
     * An import batch in ONE transaction: locks the orgs against other imports and PUTs of the same
     * orgs ({@link OrgLocks}), reads what they have stored, lets {@code judge} sort the rows against
     * it, and writes what it created or replaced (overrides replaced, welcome credits as
     * {@link #save}), statements sent in batches. The outcome counts exactly what this batch
     * changed, whatever runs beside it; the batch is written whole or not at all.
     */
    public Imported importBatch(List<String> orgIds, Instant now,
                                Function<Map<String, Subscription>, SubscriptionImport.Outcome> judge,
                                Function<String, BigDecimal> welcomeCreditOfPlan, Actor actor) {
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            OrgLocks.lock(t, LOCKS, orgIds);
            Stored before = stored(t, orgIds, now);
            SubscriptionImport.Outcome outcome = judge.apply(before.subscriptions());
            writeAll(t, outcome.changes().toWrite(), welcomeCreditOfPlan, actor);
            return new Imported(before, outcome);
        });
    }

    private static void writeAll(DSLContext t, List<Subscription> subs, Function<String, BigDecimal> welcomeCreditOfPlan,
                                 Actor actor) {
        var ts = actor.at().atOffset(ZoneOffset.UTC);
        List<org.jooq.Query> queries = new java.util.ArrayList<>();
        for (Subscription s : subs) {
            queries.add(upsert(t, s, ts));
            queries.addAll(replaceOverrides(t, s));
            BigDecimal welcome = welcomeCreditOfPlan.apply(s.planId());
            if (welcome != null && welcome.signum() > 0) {
                queries.add(welcomeGrant(t, s, welcome, ts));
            }
            if (queries.size() >= 1000) {
                t.batch(queries).execute();
                queries.clear();
            }
        }
        if (!queries.isEmpty()) {
            t.batch(queries).execute();
        }
        if (subs.isEmpty()) {
            return;
        }
        // one summary row per import: a row per org would double the write of a 100,000-row file
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("rows", subs.size());
        summary.put("byPlan", subs.stream().collect(java.util.stream.Collectors.groupingBy(Subscription::planId,
                java.util.TreeMap::new, java.util.stream.Collectors.counting())));
        summary.put("orgIds", subs.stream().map(Subscription::orgId).limit(100).toList());
        AuditLog.write(t, actor, "subscription.import", "subscription", null, null, summary);
    }

    /** Inserts the subscription row, or replaces every column but its creation time. */
    private static org.jooq.Query upsert(DSLContext t, Subscription s, java.time.OffsetDateTime ts) {
        Map<org.jooq.Field<?>, Object> changed = new LinkedHashMap<>();
        changed.put(SUBSCRIPTIONS.PLAN_ID, s.planId());
        changed.put(SUBSCRIPTIONS.STATUS, s.status().wireName());
        changed.put(SUBSCRIPTIONS.PERIOD_START, s.periodStart().atOffset(ZoneOffset.UTC));
        changed.put(SUBSCRIPTIONS.PERIOD_END, s.periodEnd().atOffset(ZoneOffset.UTC));
        changed.put(SUBSCRIPTIONS.SEATS, s.seats());
        changed.put(SUBSCRIPTIONS.ENFORCEMENT, s.enforcement() == null ? null : s.enforcement().wireName());
        changed.put(SUBSCRIPTIONS.UPDATED_AT, ts);
        changed.put(SUBSCRIPTIONS.REVISION, BILLING_REVISION.nextval());
        Map<org.jooq.Field<?>, Object> created = new LinkedHashMap<>();
        created.put(SUBSCRIPTIONS.ORG_ID, s.orgId());
        created.putAll(changed);
        created.put(SUBSCRIPTIONS.CREATED_AT, ts);
        return t.insertInto(SUBSCRIPTIONS).set(created).onConflict(SUBSCRIPTIONS.ORG_ID).doUpdate().set(changed);
    }

    /** The statements replacing the org's stored overrides with {@code s}'s. */
    private static List<org.jooq.Query> replaceOverrides(DSLContext t, Subscription s) {
        List<org.jooq.Query> out = new java.util.ArrayList<>();
        out.add(t.deleteFrom(SUBSCRIPTION_OVERRIDES).where(SUBSCRIPTION_OVERRIDES.ORG_ID.eq(s.orgId())));
        for (Map.Entry<String, BigDecimal> o : s.overrides().entrySet()) {
            out.add(t.insertInto(SUBSCRIPTION_OVERRIDES)
                    .set(SUBSCRIPTION_OVERRIDES.ORG_ID, s.orgId())
                    .set(SUBSCRIPTION_OVERRIDES.LIMIT_ID, o.getKey())
                    .set(SUBSCRIPTION_OVERRIDES.MAX, o.getValue()));
        }
        return out;
    }

    /** The plan's welcome credit for the org; the unique (org, welcome plan) index skips it when granted before. */
    private static InsertReturningStep<CreditGrantsRecord> welcomeGrant(DSLContext t, Subscription s, BigDecimal amountUsd,
                                                                        java.time.OffsetDateTime ts) {
        return t.insertInto(CREDIT_GRANTS)
                .set(CREDIT_GRANTS.ORG_ID, s.orgId())
                .set(CREDIT_GRANTS.AMOUNT_USD, amountUsd)
                .set(CREDIT_GRANTS.REASON, "welcome credit of plan " + s.planId())
                .set(CREDIT_GRANTS.GRANTED_AT, ts)
                .set(CREDIT_GRANTS.WELCOME_PLAN_ID, s.planId())
                .set(CREDIT_GRANTS.REVISION, BILLING_REVISION.nextval())
                .onConflictDoNothing();
    }

    /** A subscription as the audit log shows it (the contract's field names, money as strings). */
    private static Map<String, Object> auditState(Subscription s) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("planId", s.planId());
        out.put("status", s.status().wireName());
        out.put("periodStart", s.periodStart().toString());
        out.put("periodEnd", s.periodEnd().toString());
        out.put("seats", s.seats());
        Map<String, String> overrides = new java.util.TreeMap<>();
        s.overrides().forEach((k, v) -> overrides.put(k, v.toPlainString()));
        out.put("overrides", overrides);
        out.put("enforcement", s.enforcement() == null ? null : s.enforcement().wireName());
        return out;
    }

    private static Subscription subscription(SubscriptionsRecord r, Map<String, BigDecimal> overrides) {
        return new Subscription(r.getOrgId(), r.getPlanId(),
                SubscriptionStatus.fromWireName(r.getStatus()).orElseThrow(),
                r.getPeriodStart().toInstant(), r.getPeriodEnd().toInstant(), r.getSeats(), overrides,
                r.getEnforcement() == null ? null : EnforcementMode.fromWireName(r.getEnforcement()).orElseThrow(),
                r.getUpdatedAt().toInstant());
    }

    /**
     * Creates or replaces the org's subscription in one transaction. When {@code welcomeCreditUsd}
     * is positive, grants it unless this org already received the welcome credit of this plan
     * (a unique index makes "once" hold under concurrent PUTs too). Holds the org's import lock, so
     * {@code created} is exact beside a concurrent import or PUT of the org.
     */
    public Saved save(Subscription s, BigDecimal welcomeCreditUsd, Actor actor) {
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            OrgLocks.lock(t, LOCKS, List.of(s.orgId()));
            Subscription before = find(t, s.orgId()).orElse(null);
            boolean existed = before != null;
            var ts = actor.at().atOffset(ZoneOffset.UTC);
            upsert(t, s, ts).execute();
            replaceOverrides(t, s).forEach(org.jooq.Query::execute);
            Long welcome = null;
            if (welcomeCreditUsd != null && welcomeCreditUsd.signum() > 0) {
                welcome = welcomeGrant(t, s, welcomeCreditUsd, ts).returningResult(CREDIT_GRANTS.ID)
                        .fetchOptional(CREDIT_GRANTS.ID).orElse(null);
            }
            Subscription after = find(t, s.orgId()).orElseThrow();
            Map<String, Object> afterState = auditState(after);
            if (welcome != null) {
                afterState.put("welcomeGrantId", welcome);
            }
            AuditLog.write(t, actor, "subscription.put", "subscription", s.orgId(),
                    before == null ? null : auditState(before), afterState);
            return new Saved(!existed, after, welcome);
        });
    }
}
