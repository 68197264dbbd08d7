package dev.metering.api.webhook;

import static dev.metering.db.jooq.Tables.ALERTS;
import static dev.metering.db.jooq.Tables.WEBHOOK_ATTEMPTS;
import static dev.metering.db.jooq.Tables.WEBHOOK_DELIVERIES;
import static dev.metering.db.jooq.Tables.WEBHOOK_ENDPOINTS;

import dev.metering.api.audit.Actor;
import dev.metering.api.audit.AuditLog;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;

/**
 * Webhook endpoints and the delivery outbox. Senders on any number of instances claim due
 * deliveries with {@code FOR UPDATE SKIP LOCKED} and move their due time ahead by a lease, so a
 * delivery is sent by one sender at a time, and again after the lease if its sender died.
 */
public final class WebhookRepository {

    /** A claimed delivery: everything needed to send attempt number {@code attempt}. */
    public record Claimed(long deliveryId, String endpointId, int attempt, Instant retryFrom, String url, String secret,
                          String messageId, String body) {
    }

    static final int SCAN_PER_CLAIM = 8;

    private final DSLContext dsl;

    public WebhookRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** Stores an endpoint, audited (never the secret) in the same transaction. */
    public void insert(WebhookEndpoint e, String secret, Actor actor) {
        dsl.transaction(tx -> {
            tx.dsl().insertInto(WEBHOOK_ENDPOINTS)
                    .set(WEBHOOK_ENDPOINTS.ID, e.id())
                    .set(WEBHOOK_ENDPOINTS.URL, e.url())
                    .set(WEBHOOK_ENDPOINTS.ORG_ID, e.orgId())
                    .set(WEBHOOK_ENDPOINTS.EVENT_TYPES, String.join(",", e.events()))
                    .set(WEBHOOK_ENDPOINTS.SECRET, secret)
                    .set(WEBHOOK_ENDPOINTS.CREATED_AT, e.createdAt().atOffset(ZoneOffset.UTC))
                    .execute();
            AuditLog.write(tx.dsl(), actor, "webhook.create", "webhook", e.id(), null, auditState(e));
        });
    }

    private static Map<String, Object> auditState(WebhookEndpoint e) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", e.id());
        out.put("url", e.url());
        out.put("events", e.events());
        out.put("orgId", e.orgId());
        return out;
    }

    public List<WebhookEndpoint> endpoints(int limit) {
        return dsl.selectFrom(WEBHOOK_ENDPOINTS).orderBy(WEBHOOK_ENDPOINTS.CREATED_AT, WEBHOOK_ENDPOINTS.ID).limit(limit)
                .fetch(WebhookRepository::endpoint);
    }

    public Optional<WebhookEndpoint> endpoint(String id) {
        return dsl.selectFrom(WEBHOOK_ENDPOINTS).where(WEBHOOK_ENDPOINTS.ID.eq(id)).fetchOptional(WebhookRepository::endpoint);
    }

    /** Deletes the endpoint with its deliveries and their log, audited; false when unknown. */
    public boolean delete(String id, Actor actor) {
        return dsl.transactionResult(tx -> {
            Record r = tx.dsl().deleteFrom(WEBHOOK_ENDPOINTS).where(WEBHOOK_ENDPOINTS.ID.eq(id)).returning().fetchOne();
            if (r == null) {
                return false;
            }
            AuditLog.write(tx.dsl(), actor, "webhook.delete", "webhook", id, auditState(endpoint(r)), null);
            return true;
        });
    }

    private static WebhookEndpoint endpoint(Record r) {
        String types = r.get(WEBHOOK_ENDPOINTS.EVENT_TYPES);
        return new WebhookEndpoint(r.get(WEBHOOK_ENDPOINTS.ID), r.get(WEBHOOK_ENDPOINTS.URL),
                types.isEmpty() ? List.of() : Arrays.asList(types.split(",")), r.get(WEBHOOK_ENDPOINTS.ORG_ID),
                r.get(WEBHOOK_ENDPOINTS.CREATED_AT).toInstant());
    }

    /** The endpoint's deliveries, newest first, with their attempts; {@code status} null: any. */
    public List<Delivery> deliveries(String endpointId, String status, int limit) {
        var condition = WEBHOOK_DELIVERIES.ENDPOINT_ID.eq(endpointId);
        if (status != null) {
            condition = condition.and(WEBHOOK_DELIVERIES.STATUS.eq(status));
        }
        List<Record> rows = dsl.select(WEBHOOK_DELIVERIES.asterisk(), ALERTS.MESSAGE_ID, ALERTS.EVENT_TYPE, ALERTS.ORG_ID)
                .from(WEBHOOK_DELIVERIES).join(ALERTS).on(ALERTS.ID.eq(WEBHOOK_DELIVERIES.ALERT_ID))
                .where(condition).orderBy(WEBHOOK_DELIVERIES.ID.desc()).limit(limit).fetch();
        Map<Long, List<Delivery.Attempt>> attempts = attempts(rows.stream().map(r -> r.get(WEBHOOK_DELIVERIES.ID)).toList());
        List<Delivery> out = new ArrayList<>(rows.size());
        for (Record r : rows) {
            out.add(delivery(r, attempts.getOrDefault(r.get(WEBHOOK_DELIVERIES.ID), List.of())));
        }
        return out;
    }

    public Optional<Delivery> delivery(String endpointId, long deliveryId) {
        Record r = dsl.select(WEBHOOK_DELIVERIES.asterisk(), ALERTS.MESSAGE_ID, ALERTS.EVENT_TYPE, ALERTS.ORG_ID)
                .from(WEBHOOK_DELIVERIES).join(ALERTS).on(ALERTS.ID.eq(WEBHOOK_DELIVERIES.ALERT_ID))
                .where(WEBHOOK_DELIVERIES.ID.eq(deliveryId)).and(WEBHOOK_DELIVERIES.ENDPOINT_ID.eq(endpointId)).fetchOne();
        return r == null ? Optional.empty()
                : Optional.of(delivery(r, attempts(List.of(deliveryId)).getOrDefault(deliveryId, List.of())));
    }

    private Map<Long, List<Delivery.Attempt>> attempts(Collection<Long> deliveryIds) {
        Map<Long, List<Delivery.Attempt>> out = new HashMap<>();
        if (deliveryIds.isEmpty()) {
            return out;
        }
        dsl.selectFrom(WEBHOOK_ATTEMPTS).where(WEBHOOK_ATTEMPTS.DELIVERY_ID.in(deliveryIds))
                .orderBy(WEBHOOK_ATTEMPTS.DELIVERY_ID, WEBHOOK_ATTEMPTS.ATTEMPT)
                .forEach(a -> out.computeIfAbsent(a.getDeliveryId(), k -> new ArrayList<>()).add(new Delivery.Attempt(
                        a.getAttempt(), a.getAttemptedAt().toInstant(), a.getStatusCode(), a.getError(), a.getDurationMs())));
        return out;
    }

    private static Delivery delivery(Record r, List<Delivery.Attempt> attempts) {
        return new Delivery(r.get(WEBHOOK_DELIVERIES.ID), r.get(WEBHOOK_DELIVERIES.ENDPOINT_ID), r.get(ALERTS.MESSAGE_ID),
                r.get(ALERTS.EVENT_TYPE), r.get(ALERTS.ORG_ID), r.get(WEBHOOK_DELIVERIES.STATUS),
                r.get(WEBHOOK_DELIVERIES.ATTEMPTS), instant(r.get(WEBHOOK_DELIVERIES.NEXT_ATTEMPT_AT)),
                r.get(WEBHOOK_DELIVERIES.LAST_STATUS_CODE), r.get(WEBHOOK_DELIVERIES.LAST_ERROR),
                instant(r.get(WEBHOOK_DELIVERIES.CREATED_AT)), instant(r.get(WEBHOOK_DELIVERIES.FINISHED_AT)), attempts);
    }

    private static Instant instant(OffsetDateTime t) {
        return t == null ? null : t.toInstant();
    }

    /** Makes the delivery due now with a fresh 24 h retry window (also a delivered one: receivers dedupe on webhook-id). */
    public boolean retryNow(String endpointId, long deliveryId, Instant now) {
        OffsetDateTime t = now.atOffset(ZoneOffset.UTC);
        return dsl.update(WEBHOOK_DELIVERIES)
                .set(WEBHOOK_DELIVERIES.STATUS, "pending")
                .set(WEBHOOK_DELIVERIES.NEXT_ATTEMPT_AT, t)
                .set(WEBHOOK_DELIVERIES.RETRY_FROM, t)
                .setNull(WEBHOOK_DELIVERIES.FINISHED_AT)
                .where(WEBHOOK_DELIVERIES.ID.eq(deliveryId)).and(WEBHOOK_DELIVERIES.ENDPOINT_ID.eq(endpointId))
                .execute() > 0;
    }

    /**
     * Claims up to {@code limit} due deliveries, at most {@code perEndpoint} of each endpoint and none
     * of {@code busyEndpoints} (a slow receiver then holds back only its own deliveries); each
     * claim counts as an attempt and is leased until {@code leaseUntil}. It considers only the
     * {@link #SCAN_PER_CLAIM} x {@code limit} longest due deliveries (an index range, not the whole
     * backlog: a claim follows every batch of finished attempts).
     */
    public List<Claimed> claimDue(Instant now, Instant leaseUntil, int limit, int perEndpoint, Collection<String> busyEndpoints) {
        OffsetDateTime n = now.atOffset(ZoneOffset.UTC);
        // one statement, so atomic without a transaction of its own (no BEGIN and COMMIT round trips)
        return dsl.connectionResult(c -> {
            try (PreparedStatement ps = c.prepareStatement(CLAIM)) {
                ps.setObject(1, n);
                ps.setArray(2, c.createArrayOf("text", busyEndpoints.toArray()));
                ps.setInt(3, limit * SCAN_PER_CLAIM);
                ps.setInt(4, perEndpoint);
                ps.setInt(5, limit);
                ps.setObject(6, n);
                ps.setObject(7, leaseUntil.atOffset(ZoneOffset.UTC));
                List<Claimed> out = new ArrayList<>();
                try (ResultSet r = ps.executeQuery()) {
                    while (r.next()) {
                        out.add(new Claimed(r.getLong(1), r.getString(2), r.getInt(3),
                                r.getObject(4, OffsetDateTime.class).toInstant(), r.getString(5), r.getString(6),
                                r.getString(7), r.getString(8)));
                    }
                }
                return out;
            }
        });
    }

    private static final String CLAIM = "WITH candidates AS ("
            + " SELECT id FROM (SELECT d.id, d.next_attempt_at, row_number() OVER"
            + "   (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS rn"
            + "  FROM (SELECT id, endpoint_id, next_attempt_at FROM metering.webhook_deliveries"
            + "   WHERE status = 'pending' AND next_attempt_at <= CAST(? AS timestamptz) AND endpoint_id <> ALL (?::text[])"
            + "   ORDER BY next_attempt_at LIMIT ?) d) c"
            + " WHERE rn <= ? ORDER BY next_attempt_at LIMIT ?),"
            + " due AS (SELECT d.id FROM metering.webhook_deliveries d JOIN candidates c ON c.id = d.id"
            + "  WHERE d.status = 'pending' AND d.next_attempt_at <= CAST(? AS timestamptz) FOR UPDATE OF d SKIP LOCKED)"
            + " UPDATE metering.webhook_deliveries d SET next_attempt_at = CAST(? AS timestamptz), attempts = d.attempts + 1"
            + " FROM due, metering.webhook_endpoints e, metering.alerts a"
            + " WHERE d.id = due.id AND e.id = d.endpoint_id AND a.id = d.alert_id"
            + " RETURNING d.id, d.endpoint_id, d.attempts, d.retry_from, e.url, e.secret, a.message_id, a.body";

    /**
     * One finished attempt: logged as attempt {@code claimed.attempt}; the delivery is delivered,
     * due again at {@code nextAttemptAt}, or failed when that is null.
     */
    public record Outcome(Claimed claimed, Instant at, Integer statusCode, String error, long durationMs,
                          boolean delivered, Instant nextAttemptAt) {
    }

    /**
     * Logs the attempts and moves their deliveries on, in one statement.
     * A delivery claimed again meanwhile (its lease ran out) or retried by hand is left alone.
     */
    public void completeAll(List<Outcome> outcomes, Instant now) {
        if (outcomes.isEmpty()) {
            return;
        }
        int n = outcomes.size();
        Long[] ids = new Long[n];
        Integer[] attempts = new Integer[n];
        String[] attemptedAt = new String[n];
        Integer[] codes = new Integer[n];
        String[] errors = new String[n];
        Long[] durations = new Long[n];
        String[] retryFrom = new String[n];
        String[] statuses = new String[n];
        String[] finished = new String[n];
        String[] next = new String[n];
        for (int i = 0; i < n; i++) {
            Outcome o = outcomes.get(i);
            ids[i] = o.claimed().deliveryId();
            attempts[i] = o.claimed().attempt();
            attemptedAt[i] = o.at().toString();
            codes[i] = o.statusCode();
            errors[i] = o.error();
            durations[i] = o.durationMs();
            retryFrom[i] = o.claimed().retryFrom().toString();
            boolean retry = !o.delivered() && o.nextAttemptAt() != null;
            statuses[i] = o.delivered() ? "delivered" : retry ? "pending" : "failed";
            finished[i] = retry ? null : now.toString();
            next[i] = retry ? o.nextAttemptAt().toString() : null;
        }
        // one statement (the log insert as a data-modifying CTE): atomic without BEGIN and COMMIT round trips
        dsl.connection(c -> {
            try (PreparedStatement ps = c.prepareStatement(COMPLETE)) {
                Array idArray = c.createArrayOf("bigint", ids);
                Array attemptArray = c.createArrayOf("int4", attempts);
                Array codeArray = c.createArrayOf("int4", codes);
                Array errorArray = c.createArrayOf("text", errors);
                ps.setArray(1, idArray);
                ps.setArray(2, attemptArray);
                ps.setArray(3, c.createArrayOf("text", attemptedAt));
                ps.setArray(4, codeArray);
                ps.setArray(5, errorArray);
                ps.setArray(6, c.createArrayOf("bigint", durations));
                ps.setArray(7, idArray);
                ps.setArray(8, attemptArray);
                ps.setArray(9, c.createArrayOf("text", retryFrom));
                ps.setArray(10, codeArray);
                ps.setArray(11, errorArray);
                ps.setArray(12, c.createArrayOf("text", statuses));
                ps.setArray(13, c.createArrayOf("text", finished));
                ps.setArray(14, c.createArrayOf("text", next));
                ps.executeUpdate();
            }
        });
    }

    private static final String COMPLETE = "WITH logged AS (INSERT INTO metering.webhook_attempts (delivery_id, attempt, "
            + "attempted_at, status_code, error, duration_ms) SELECT * FROM unnest(?::bigint[], ?::int[], "
            + "?::text[]::timestamptz[], ?::int[], ?::text[], ?::bigint[]) ON CONFLICT DO NOTHING) "
            + "UPDATE metering.webhook_deliveries d SET last_status_code = x.code, last_error = x.error, "
            + "status = x.status, finished_at = x.finished, next_attempt_at = x.next "
            + "FROM unnest(?::bigint[], ?::int[], ?::text[]::timestamptz[], ?::int[], ?::text[], ?::text[], "
            + "?::text[]::timestamptz[], ?::text[]::timestamptz[]) AS x(id, attempt, retry_from, code, error, status, finished, next) "
            + "WHERE d.id = x.id AND d.attempts = x.attempt AND d.status = 'pending' AND d.retry_from = x.retry_from";

    /** The creation time of the oldest pending delivery, or null. */
    public Instant oldestPending() {
        OffsetDateTime t = dsl.select(DSL.min(WEBHOOK_DELIVERIES.CREATED_AT)).from(WEBHOOK_DELIVERIES)
                .where(WEBHOOK_DELIVERIES.STATUS.eq("pending")).fetchOne(0, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
