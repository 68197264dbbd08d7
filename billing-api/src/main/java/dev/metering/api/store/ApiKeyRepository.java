package dev.metering.api.store;

import static dev.metering.db.jooq.Sequences.BILLING_REVISION;
import static dev.metering.db.jooq.Tables.API_KEYS;
import static org.jooq.impl.DSL.coalesce;
import static org.jooq.impl.DSL.greatest;
import static org.jooq.impl.DSL.least;
import static org.jooq.impl.DSL.val;

import dev.metering.api.audit.Actor;
import dev.metering.api.audit.AuditLog;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import dev.metering.db.jooq.tables.records.ApiKeysRecord;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Query;
import org.jooq.impl.DSL;

/** API keys by SHA-256 hash; listings never read the hash. */
public final class ApiKeyRepository {

    /** A stored, not revoked key: its hash, who it authenticates, until when (null: no expiry). */
    public record StoredKey(byte[] hash, Principal principal, Instant expiresAt, Instant lastUsedAt) {
    }

    /** A key as listed: everything but the secret and its hash. */
    public record KeyInfo(String id, String orgId, Set<Scope> scopes, Instant createdAt, Instant expiresAt,
                          Instant lastUsedAt, Instant revokedAt, String replacedBy) {
    }

    /** What a rotation did: the replaced key as it is now, or why nothing was done. */
    public record Rotation(Outcome outcome, KeyInfo old) {
        public enum Outcome { ROTATED, NOT_FOUND, ALREADY_ROTATED }
    }

    private final DSLContext dsl;

    public ApiKeyRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** Stores a new key's hash, audited (id, org, scopes, expiry; never the key) in the same transaction. */
    public void insert(String id, byte[] hash, String orgId, Set<Scope> scopes, Instant expiresAt, Actor actor) {
        dsl.transaction(tx -> {
            insert(tx.dsl(), id, hash, orgId, scopes, actor.at(), expiresAt);
            AuditLog.write(tx.dsl(), actor, "api_key.create", "api_key", id, null,
                    summary(id, orgId, wire(scopes), expiresAt, null));
        });
    }

    private static void insert(DSLContext dsl, String id, byte[] hash, String orgId, Set<Scope> scopes, Instant now,
                               Instant expiresAt) {
        dsl.insertInto(API_KEYS)
                .set(API_KEYS.ID, id)
                .set(API_KEYS.KEY_HASH, hash)
                .set(API_KEYS.ORG_ID, orgId)
                .set(API_KEYS.SCOPES, wire(scopes))
                .set(API_KEYS.CREATED_AT, utc(now))
                .set(API_KEYS.EXPIRES_AT, utc(expiresAt))
                .set(API_KEYS.REVISION, BILLING_REVISION.nextval())
                .execute();
    }

    /** The not revoked key with this hash, expired or not (the caller tells the two apart). */
    public Optional<StoredKey> findUnrevoked(byte[] hash) {
        return dsl.selectFrom(API_KEYS)
                .where(API_KEYS.KEY_HASH.eq(hash)).and(API_KEYS.REVOKED_AT.isNull())
                .fetchOptional(r -> new StoredKey(r.getKeyHash(), new Principal(r.getId(), r.getOrgId(), scopes(r)),
                        instant(r.getExpiresAt()), instant(r.getLastUsedAt())));
    }

    public Optional<KeyInfo> find(String id) {
        return dsl.selectFrom(API_KEYS).where(API_KEYS.ID.eq(id)).fetchOptional(ApiKeyRepository::info);
    }

    /** Up to {@code limit} keys in id order after {@code afterId} (null: from the first), of one org or all. */
    public List<KeyInfo> page(String orgId, String afterId, int limit) {
        Condition c = DSL.noCondition();
        if (orgId != null) {
            c = c.and(API_KEYS.ORG_ID.eq(orgId));
        }
        if (afterId != null) {
            c = c.and(API_KEYS.ID.gt(afterId));
        }
        return dsl.selectFrom(API_KEYS).where(c).orderBy(API_KEYS.ID).limit(limit).fetch(ApiKeyRepository::info);
    }

    /** Revokes, audited in the same transaction; false when no active key has this id. */
    public boolean revoke(String id, Actor actor) {
        return dsl.transactionResult(tx -> {
            ApiKeysRecord r = tx.dsl().update(API_KEYS)
                    .set(API_KEYS.REVOKED_AT, utc(actor.at()))
                    .set(API_KEYS.REVISION, BILLING_REVISION.nextval())
                    .where(API_KEYS.ID.eq(id)).and(API_KEYS.REVOKED_AT.isNull())
                    .returning().fetchOne();
            if (r == null) {
                return false;
            }
            Instant expiresAt = instant(r.getExpiresAt());
            AuditLog.write(tx.dsl(), actor, "api_key.revoke", "api_key", id,
                    summary(id, r.getOrgId(), r.getScopes(), expiresAt, null),
                    summary(id, r.getOrgId(), r.getScopes(), expiresAt, actor.at()));
            return true;
        });
    }

    /**
     * Stores the replacement of an active (not revoked, not expired) key, with the same org and
     * scopes, and ends the old key at {@code graceEnd} (or its own expiry when sooner), in one
     * transaction; the old row is locked so that two concurrent rotations cannot both succeed.
     */
    public Rotation rotate(String oldId, String newId, byte[] newHash, Instant graceEnd, Instant newExpiresAt,
                           Actor actor) {
        Instant now = actor.at();
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            ApiKeysRecord old = t.selectFrom(API_KEYS).where(API_KEYS.ID.eq(oldId)).and(API_KEYS.REVOKED_AT.isNull())
                    .and(API_KEYS.EXPIRES_AT.isNull().or(API_KEYS.EXPIRES_AT.gt(utc(now))))
                    .forUpdate().fetchOne();
            if (old == null) {
                return new Rotation(Rotation.Outcome.NOT_FOUND, null);
            }
            if (old.getReplacedBy() != null) {
                return new Rotation(Rotation.Outcome.ALREADY_ROTATED, info(old));
            }
            insert(t, newId, newHash, old.getOrgId(), scopes(old), now, newExpiresAt);
            ApiKeysRecord updated = t.update(API_KEYS)
                    .set(API_KEYS.EXPIRES_AT, least(coalesce(API_KEYS.EXPIRES_AT, val(utc(graceEnd))), val(utc(graceEnd))))
                    .set(API_KEYS.REPLACED_BY, newId)
                    .set(API_KEYS.REVISION, BILLING_REVISION.nextval())
                    .where(API_KEYS.ID.eq(oldId))
                    .returning().fetchOne();
            AuditLog.write(t, actor, "api_key.rotate", "api_key", oldId,
                    summary(oldId, old.getOrgId(), old.getScopes(), instant(old.getExpiresAt()), null),
                    Map.of("replacedBy", newId, "expiresAt", String.valueOf(instant(updated.getExpiresAt())),
                            "newKey", summary(newId, old.getOrgId(), old.getScopes(), newExpiresAt, null)));
            return new Rotation(Rotation.Outcome.ROTATED, info(updated));
        });
    }

    /**
     * Records when keys were last used, never moving a time backwards. No revision: this is not a
     * change other instances' caches must see.
     */
    public void touch(Map<String, Instant> lastUsedById) {
        List<Query> updates = new ArrayList<>();
        lastUsedById.forEach((id, at) -> updates.add(dsl.update(API_KEYS)
                .set(API_KEYS.LAST_USED_AT, greatest(coalesce(API_KEYS.LAST_USED_AT, val(utc(at))), val(utc(at))))
                .where(API_KEYS.ID.eq(id))));
        if (!updates.isEmpty()) {
            dsl.batch(updates).execute();
        }
    }

    private static String wire(Set<Scope> scopes) {
        return scopes.stream().map(Scope::wireName).sorted().collect(Collectors.joining(","));
    }

    private static Map<String, Object> summary(String id, String orgId, String scopes, Instant expiresAt, Instant revokedAt) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id);
        out.put("orgId", orgId);
        out.put("scopes", Arrays.asList(scopes.split(",")));
        out.put("expiresAt", expiresAt == null ? null : expiresAt.toString());
        out.put("revokedAt", revokedAt == null ? null : revokedAt.toString());
        return out;
    }

    private static KeyInfo info(ApiKeysRecord r) {
        return new KeyInfo(r.getId(), r.getOrgId(), scopes(r), instant(r.getCreatedAt()), instant(r.getExpiresAt()),
                instant(r.getLastUsedAt()), instant(r.getRevokedAt()), r.getReplacedBy());
    }

    private static Set<Scope> scopes(ApiKeysRecord r) {
        return Arrays.stream(r.getScopes().split(",")).map(s -> Scope.fromWireName(s).orElseThrow())
                .collect(Collectors.toUnmodifiableSet());
    }

    private static OffsetDateTime utc(Instant t) {
        return t == null ? null : t.atOffset(ZoneOffset.UTC);
    }

    private static Instant instant(OffsetDateTime t) {
        return t == null ? null : t.toInstant();
    }
}
