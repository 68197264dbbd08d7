package dev.metering.api.store;

import static dev.metering.db.jooq.Tables.IDEMPOTENCY_KEYS;

import dev.metering.db.jooq.tables.records.IdempotencyKeysRecord;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.jooq.DSLContext;

/**
 * The answers stored for {@code Idempotency-Key}s ({@code metering.idempotency_keys}), per calling
 * key. A claim is taken by inserting the row, so of two concurrent requests with one key exactly
 * one runs; rows past {@code expires_at} count as absent.
 */
public final class IdempotencyRepository {

    /** What a request with an idempotency key may do. */
    public sealed interface Claim {
    }

    /** The request runs; {@link #complete} or {@link #release} follows. */
    public record Run() implements Claim {
    }

    /** The same request ran before: answer what it answered. */
    public record Replay(int status, String body) implements Claim {
    }

    /** The key was used for another request. */
    public record Reused() implements Claim {
    }

    /** The same request is running now (another claim holds the row). */
    public record InProgress() implements Claim {
    }

    private final DSLContext dsl;

    public IdempotencyRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /**
     * Claims {@code key} of {@code keyId} for a request with {@code hash}: a new key (or one
     * expired) is claimed for {@code lease}; an in-progress claim whose lease ran out (its instance
     * died) is taken over.
     */
    public Claim claim(String keyId, String key, byte[] hash, Instant now, Duration ttl, Duration lease) {
        OffsetDateTime at = now.atOffset(ZoneOffset.UTC);
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            int inserted = t.insertInto(IDEMPOTENCY_KEYS)
                    .set(IDEMPOTENCY_KEYS.KEY_ID, keyId)
                    .set(IDEMPOTENCY_KEYS.IDEMPOTENCY_KEY, key)
                    .set(IDEMPOTENCY_KEYS.REQUEST_HASH, hash)
                    .set(IDEMPOTENCY_KEYS.CREATED_AT, at)
                    .set(IDEMPOTENCY_KEYS.EXPIRES_AT, at.plus(ttl))
                    .set(IDEMPOTENCY_KEYS.LOCKED_UNTIL, at.plus(lease))
                    .onConflictDoNothing()
                    .execute();
            if (inserted == 1) {
                return new Run();
            }
            // the row exists (the conflict said so) and, locked, cannot change under us
            IdempotencyKeysRecord r = t.selectFrom(IDEMPOTENCY_KEYS)
                    .where(IDEMPOTENCY_KEYS.KEY_ID.eq(keyId)).and(IDEMPOTENCY_KEYS.IDEMPOTENCY_KEY.eq(key))
                    .forUpdate().fetchOne();
            if (r == null) {
                return new InProgress();
            }
            boolean expired = !r.getExpiresAt().isAfter(at);
            if (!expired && !MessageDigest.isEqual(r.getRequestHash(), hash)) {
                return new Reused();
            }
            if (!expired && r.getResponseStatus() != null) {
                return new Replay(r.getResponseStatus(), r.getResponseBody());
            }
            if (!expired && r.getLockedUntil().isAfter(at)) {
                return new InProgress();
            }
            t.update(IDEMPOTENCY_KEYS)
                    .set(IDEMPOTENCY_KEYS.REQUEST_HASH, hash)
                    .set(IDEMPOTENCY_KEYS.CREATED_AT, expired ? at : r.getCreatedAt())
                    .set(IDEMPOTENCY_KEYS.EXPIRES_AT, expired ? at.plus(ttl) : r.getExpiresAt())
                    .set(IDEMPOTENCY_KEYS.LOCKED_UNTIL, at.plus(lease))
                    .setNull(IDEMPOTENCY_KEYS.RESPONSE_STATUS)
                    .setNull(IDEMPOTENCY_KEYS.RESPONSE_BODY)
                    .where(IDEMPOTENCY_KEYS.KEY_ID.eq(keyId)).and(IDEMPOTENCY_KEYS.IDEMPOTENCY_KEY.eq(key))
                    .execute();
            return new Run();
        });
    }

    /** Stores the answer of a claimed request, for replays until the key expires. */
    public void complete(String keyId, String key, int status, String body) {
        dsl.update(IDEMPOTENCY_KEYS)
                .set(IDEMPOTENCY_KEYS.RESPONSE_STATUS, status)
                .set(IDEMPOTENCY_KEYS.RESPONSE_BODY, body)
                .where(IDEMPOTENCY_KEYS.KEY_ID.eq(keyId)).and(IDEMPOTENCY_KEYS.IDEMPOTENCY_KEY.eq(key))
                .execute();
    }

    /** Gives a claim up without an answer (the request failed): a retry runs it again. */
    public void release(String keyId, String key) {
        dsl.deleteFrom(IDEMPOTENCY_KEYS)
                .where(IDEMPOTENCY_KEYS.KEY_ID.eq(keyId)).and(IDEMPOTENCY_KEYS.IDEMPOTENCY_KEY.eq(key))
                .and(IDEMPOTENCY_KEYS.RESPONSE_STATUS.isNull())
                .execute();
    }

    /** Deletes up to {@code limit} expired rows (housekeeping only: reads ignore them anyway). */
    public int deleteExpired(Instant now, int limit) {
        return dsl.execute("DELETE FROM metering.idempotency_keys WHERE ctid IN (SELECT ctid FROM"
                + " metering.idempotency_keys WHERE expires_at <= CAST(? AS timestamptz) LIMIT ?)", now.toString(), limit);
    }
}
