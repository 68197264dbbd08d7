package dev.metering.api.store;

import static dev.metering.db.jooq.Sequences.BILLING_REVISION;
import static dev.metering.db.jooq.Tables.API_KEYS;

import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
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

    public void insert(String id, byte[] hash, String orgId, Set<Scope> scopes, Instant now) {
        dsl.insertInto(API_KEYS)
                .set(API_KEYS.ID, id)
                .set(API_KEYS.KEY_HASH, hash)
                .set(API_KEYS.ORG_ID, orgId)
                .set(API_KEYS.SCOPES, scopes.stream().map(Scope::wireName).sorted().collect(Collectors.joining(",")))
                .set(API_KEYS.CREATED_AT, now.atOffset(ZoneOffset.UTC))
                .set(API_KEYS.REVISION, BILLING_REVISION.nextval())
                .execute();
    }

    /** The active (not revoked) key with this hash. */
    public Optional<StoredKey> findActive(byte[] hash) {
        return dsl.selectFrom(API_KEYS)
                .where(API_KEYS.KEY_HASH.eq(hash)).and(API_KEYS.REVOKED_AT.isNull())
                .fetchOptional(r -> new StoredKey(r.getKeyHash(), new Principal(r.getId(), r.getOrgId(),
                        Arrays.stream(r.getScopes().split(",")).map(s -> Scope.fromWireName(s).orElseThrow())
                                .collect(Collectors.toSet()))));
    }

    /** Revokes; false when no active key has this id. */
    public boolean revoke(String id, Instant now) {
        return dsl.update(API_KEYS)
                .set(API_KEYS.REVOKED_AT, now.atOffset(ZoneOffset.UTC))
                .set(API_KEYS.REVISION, BILLING_REVISION.nextval())
                .where(API_KEYS.ID.eq(id)).and(API_KEYS.REVOKED_AT.isNull())
                .execute() == 1;
    }
}
