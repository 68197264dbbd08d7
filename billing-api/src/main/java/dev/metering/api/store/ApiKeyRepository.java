package dev.metering.api.store;

import static dev.metering.db.jooq.Sequences.BILLING_REVISION;
import static dev.metering.db.jooq.Tables.API_KEYS;

import dev.metering.api.audit.Actor;
import dev.metering.api.audit.AuditLog;
import dev.metering.api.auth.Principal;
import dev.metering.db.jooq.tables.records.ApiKeysRecord;
import dev.metering.api.auth.Scope;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jooq.DSLContext;

/** API keys by SHA-256 hash. */
public final class ApiKeyRepository {

    /** A stored key: its hash and who it authenticates. */
    public record StoredKey(byte[] hash, Principal principal) {
    }

    private final DSLContext dsl;

    public ApiKeyRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** Stores a new key's hash, audited (id, org and scopes; never the key) in the same transaction. */
    public void insert(String id, byte[] hash, String orgId, Set<Scope> scopes, Actor actor) {
        String scopeList = scopes.stream().map(Scope::wireName).sorted().collect(Collectors.joining(","));
        dsl.transaction(tx -> {
            tx.dsl().insertInto(API_KEYS)
                    .set(API_KEYS.ID, id)
                    .set(API_KEYS.KEY_HASH, hash)
                    .set(API_KEYS.ORG_ID, orgId)
                    .set(API_KEYS.SCOPES, scopeList)
                    .set(API_KEYS.CREATED_AT, actor.at().atOffset(ZoneOffset.UTC))
                    .set(API_KEYS.REVISION, BILLING_REVISION.nextval())
                    .execute();
            AuditLog.write(tx.dsl(), actor, "api_key.create", "api_key", id, null, summary(id, orgId, scopeList, null));
        });
    }

    private static Map<String, Object> summary(String id, String orgId, String scopes, Instant revokedAt) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id);
        out.put("orgId", orgId);
        out.put("scopes", Arrays.asList(scopes.split(",")));
        out.put("revokedAt", revokedAt == null ? null : revokedAt.toString());
        return out;
    }

    /** The active (not revoked) key with this hash. */
    public Optional<StoredKey> findActive(byte[] hash) {
        return dsl.selectFrom(API_KEYS)
                .where(API_KEYS.KEY_HASH.eq(hash)).and(API_KEYS.REVOKED_AT.isNull())
                .fetchOptional(r -> new StoredKey(r.getKeyHash(), new Principal(r.getId(), r.getOrgId(),
                        Arrays.stream(r.getScopes().split(",")).map(s -> Scope.fromWireName(s).orElseThrow())
                                .collect(Collectors.toSet()))));
    }

    /** Revokes, audited in the same transaction; false when no active key has this id. */
    public boolean revoke(String id, Actor actor) {
        return dsl.transactionResult(tx -> {
            ApiKeysRecord r = tx.dsl().update(API_KEYS)
                    .set(API_KEYS.REVOKED_AT, actor.at().atOffset(ZoneOffset.UTC))
                    .set(API_KEYS.REVISION, BILLING_REVISION.nextval())
                    .where(API_KEYS.ID.eq(id)).and(API_KEYS.REVOKED_AT.isNull())
                    .returning().fetchOne();
            if (r == null) {
                return false;
            }
            AuditLog.write(tx.dsl(), actor, "api_key.revoke", "api_key", id,
                    summary(id, r.getOrgId(), r.getScopes(), null), summary(id, r.getOrgId(), r.getScopes(), actor.at()));
            return true;
        });
    }
}
