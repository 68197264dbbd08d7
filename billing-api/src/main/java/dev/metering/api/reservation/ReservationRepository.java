package dev.metering.api.reservation;

import dev.metering.api.check.Holds;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jooq.DSLContext;
import org.jooq.Record;

/**
 * The {@code reservations} table. Writers that add holds take the org's transaction-scoped advisory
 * lock, exclusive ({@link #lockOrg}) or shared ({@link #lockOrgShared}), and read the live holds
 * after it, in the same transaction.
 */
public final class ReservationRepository {

    /** How long rows stay after they stopped counting, so a retried requestId still gets its answer. */
    static final Duration KEEP = Duration.ofDays(1);

    private static final String COLUMNS = "id, org_id, request_id, feature, user_id, conversation_id, quantity, "
            + "tokens, cost_usd, ttl_seconds, created_at, expires_at, settled_at, event_id, released_at, answer";

    /**
     * Live holds: not released, not expired, and not settled-and-counted. A settled hold is counted by
     * the usage tables once usage_as_of passed its settle time (its event was acknowledged before the
     * settle), or once its event is in the event log written before usage_as_of (the log row is
     * written before or after the aggregates, so the log alone does not say the totals have it).
     */
    private static final String LIVE = "select feature, user_id, conversation_id, sum(quantity), sum(tokens), "
            + "sum(cost_usd) from metering.reservations r "
            + "where r.org_id = ? and r.released_at is null and r.expires_at > ?::timestamptz "
            + "and (r.settled_at is null or not (r.settled_at < ?::timestamptz or (r.event_id is not null and exists ("
            + "select 1 from metering.usage_events e where e.org_id = r.org_id and e.event_id = r.event_id "
            + "and e.recorded_at < ?::timestamptz)))) "
            + "group by feature, user_id, conversation_id";

    /** {@link #LIVE} per hold, with its expiry. */
    private static final String LIVE_TIMED = LIVE.replace("sum(quantity), sum(tokens), sum(cost_usd)",
            "quantity, tokens, cost_usd, expires_at, settled_at is not null").replace(" group by feature, user_id, conversation_id", "");

    private final DSLContext dsl;

    public ReservationRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** The org's live holds as of {@code now}; {@code usageAsOf} null: no settled hold is counted yet. */
    public Holds live(DSLContext ctx, String orgId, Instant now, Instant usageAsOf) {
        OffsetDateTime asOf = utc(usageAsOf == null ? Instant.EPOCH : usageAsOf);
        List<Holds.Hold> out = new ArrayList<>();
        for (Record r : ctx.fetch(LIVE, orgId, utc(now), asOf, asOf)) {
            out.add(new Holds.Hold(r.get(0, String.class), r.get(1, String.class), r.get(2, String.class),
                    r.get(3, Long.class), r.get(4, Long.class), r.get(5, BigDecimal.class)));
        }
        return out.isEmpty() ? Holds.NONE : new Holds(out, () -> liveTimed(ctx, orgId, now, usageAsOf));
    }

    public Holds live(String orgId, Instant now, Instant usageAsOf) {
        return live(dsl, orgId, now, usageAsOf);
    }

    /** Serializes the transaction {@code tx} with every other one adding holds for the org, until it ends. */
    void lockOrg(DSLContext tx, String orgId) {
        tx.fetch("select pg_advisory_xact_lock(hashtextextended(?, 0))", "metering.reservations/" + orgId);
    }

    /**
     * Waits until no transaction holds the org's exclusive lock and keeps any from taking it until
     * {@code tx} ends; transactions holding it shared run side by side.
     */
    void lockOrgShared(DSLContext tx, String orgId) {
        tx.fetch("select pg_advisory_xact_lock_shared(hashtextextended(?, 0))", "metering.reservations/" + orgId);
    }

    /** The org's reservations with these request ids. */
    java.util.Map<String, Reservation> byRequestIds(DSLContext ctx, String orgId, java.util.Collection<String> requestIds) {
        java.util.Map<String, Reservation> out = new java.util.HashMap<>();
        for (Record r : ctx.fetch("select " + COLUMNS + " from metering.reservations where org_id = ? "
                + "and request_id = any(?::text[])", orgId, requestIds.toArray(new String[0]))) {
            Reservation res = row(r);
            out.put(res.requestId(), res);
        }
        return out;
    }

    /** The live holds' amounts and expiry, one row per hold (a refused request's retry time, only then). */
    List<Holds.TimedHold> liveTimed(DSLContext ctx, String orgId, Instant now, Instant usageAsOf) {
        OffsetDateTime asOf = utc(usageAsOf == null ? Instant.EPOCH : usageAsOf);
        List<Holds.TimedHold> out = new ArrayList<>();
        for (Record r : ctx.fetch(LIVE_TIMED, orgId, utc(now), asOf, asOf)) {
            out.add(new Holds.TimedHold(new Holds.Hold(r.get(0, String.class), r.get(1, String.class),
                    r.get(2, String.class), r.get(3, Long.class), r.get(4, Long.class), r.get(5, BigDecimal.class)),
                    instant(r.get(6)), r.get(7, Boolean.class)));
        }
        return out;
    }

    Optional<Reservation> byRequestId(DSLContext ctx, String orgId, String requestId) {
        return one(ctx.fetch("select " + COLUMNS + " from metering.reservations where org_id = ? and request_id = ?",
                orgId, requestId));
    }

    /** The reservation, locked until the transaction ends. */
    Optional<Reservation> byIdForUpdate(DSLContext tx, String orgId, String id) {
        return one(tx.fetch("select " + COLUMNS + " from metering.reservations where org_id = ? and id = ? for update",
                orgId, id));
    }

    void insert(DSLContext tx, Reservation r) {
        insertAll(tx, List.of(r));
    }

    /** Inserts these reservations in one statement. */
    void insertAll(DSLContext tx, List<Reservation> rows) {
        if (rows.isEmpty()) {
            return;
        }
        tx.execute(insertSql(rows.size(), ""), insertBinds(rows));
    }

    /** Inserts the reservation unless the org already has its request id; whether it was inserted. */
    boolean insertIfAbsent(DSLContext tx, Reservation r) {
        return tx.execute(insertSql(1, " on conflict (org_id, request_id) do nothing"), insertBinds(List.of(r))) == 1;
    }

    private static String insertSql(int rows, String suffix) {
        // timestamps are bound as text in plain SQL: cast
        String values = "(?, ?, ?, ?, ?::text, ?::text, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz, null, null, null, ?)";
        StringBuilder sql = new StringBuilder("insert into metering.reservations (" + COLUMNS + ") values ");
        for (int i = 0; i < rows; i++) {
            sql.append(i == 0 ? "" : ", ").append(values);
        }
        return sql.append(suffix).toString();
    }

    private static Object[] insertBinds(List<Reservation> rows) {
        List<Object> binds = new ArrayList<>(rows.size() * 13);
        for (Reservation r : rows) {
            binds.addAll(java.util.Arrays.asList(r.id(), r.orgId(), r.requestId(), r.feature(), r.userId(),
                    r.conversationId(), r.quantity(), r.tokens(), r.costUsd(), r.ttlSeconds(), utc(r.createdAt()),
                    utc(r.expiresAt()), r.answer()));
        }
        return binds.toArray();
    }

    void settle(DSLContext tx, String id, Instant at, String eventId, Instant expiresAt) {
        tx.execute("update metering.reservations set settled_at = ?::timestamptz, event_id = ?::text, "
                        + "expires_at = ?::timestamptz where id = ?",
                utc(at), eventId, utc(expiresAt), id);
    }

    /**
     * Settles the reservation in one statement if it is held at {@code at} (the common case);
     * empty when it is not (unknown, settled, released or expired: the caller looks closer).
     */
    Optional<Reservation> settleIfHeld(String orgId, String id, Instant at, String eventId) {
        OffsetDateTime now = utc(at);
        return one(dsl.fetch("update metering.reservations set settled_at = ?::timestamptz, event_id = ?::text, "
                        + "expires_at = greatest(expires_at, ?::timestamptz + ttl_seconds * interval '1 second') "
                        + "where org_id = ? and id = ? and settled_at is null and released_at is null "
                        + "and expires_at > ?::timestamptz returning " + COLUMNS,
                now, eventId, now, orgId, id, now));
    }

    /** Releases the reservation in one statement if it is held at {@code at}; whether it was. */
    boolean releaseIfHeld(String orgId, String id, Instant at) {
        OffsetDateTime now = utc(at);
        return dsl.execute("update metering.reservations set released_at = ?::timestamptz where org_id = ? and id = ? "
                + "and settled_at is null and released_at is null and expires_at > ?::timestamptz", now, orgId, id,
                now) == 1;
    }

    void release(DSLContext tx, String id, Instant at) {
        tx.execute("update metering.reservations set released_at = ?::timestamptz where id = ?", utc(at), id);
    }

    /**
     * Marks settled holds the usage tables now count as released (so reads skip them), and deletes
     * rows that stopped counting more than {@link #KEEP} ago. Returns the rows deleted.
     */
    int cleanUp(Instant now, Instant usageAsOf) {
        if (usageAsOf != null) {
            dsl.execute("update metering.reservations set released_at = ?::timestamptz where released_at is null "
                    + "and settled_at is not null and settled_at < ?::timestamptz", utc(now), utc(usageAsOf));
        }
        OffsetDateTime before = utc(now.minus(KEEP));
        return dsl.execute("delete from metering.reservations where expires_at < ?::timestamptz or released_at < ?::timestamptz", before, before);
    }

    private static Optional<Reservation> one(org.jooq.Result<Record> rows) {
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(row(rows.get(0)));
    }

    private static Reservation row(Record r) {
        return new Reservation(r.get(0, String.class), r.get(1, String.class), r.get(2, String.class),
                r.get(3, String.class), r.get(4, String.class), r.get(5, String.class), r.get(6, Long.class),
                r.get(7, Long.class), r.get(8, BigDecimal.class), r.get(9, Integer.class), instant(r.get(10)),
                instant(r.get(11)), instant(r.get(12)), r.get(13, String.class), instant(r.get(14)),
                r.get(15, String.class));
    }

    private static Instant instant(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof OffsetDateTime o) {
            return o.toInstant();
        }
        if (v instanceof java.sql.Timestamp t) {
            return t.toInstant();
        }
        return OffsetDateTime.parse(v.toString()).toInstant();
    }

    private static OffsetDateTime utc(Instant t) {
        return t.atOffset(ZoneOffset.UTC);
    }
}
