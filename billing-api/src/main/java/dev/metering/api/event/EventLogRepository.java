package dev.metering.api.event;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jooq.DSLContext;
import org.jooq.Record;

/**
 * Reads the event log ({@code metering.usage_events}, written by metering-sink) newest first, and
 * the dead letters whose event the sink could decode. Every query is an index range scan per day
 * partition: (org, occurred_at), (org, user, occurred_at) or (org, conversation, occurred_at), and
 * (org, event) for one event.
 */
public final class EventLogRepository {

    private static final String COLUMNS = "event_id, org_id, occurred_at, feature, user_id, conversation_id, provider, "
            + "model, source, quantity, input_tokens, output_tokens, cached_input_tokens, cost_usd, priced, "
            + "price_effective_from, recorded_at, cache_write_tokens, reasoning_tokens, service_tier";

    /** A dead letter of one event: why it was refused and when the sink stored it. */
    public record DeadLettered(String reason, String message, String stage, Instant receivedAt) {
    }

    /** The filters of a listing; null ones do not filter. {@code to} is exclusive. */
    public record Query(String orgId, Instant from, Instant to, String userId, String conversationId,
                        EventCursor after, int limit) {
    }

    private final DSLContext dsl;

    public EventLogRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** Up to {@code q.limit()} events, newest first (occurredAt, then eventId, descending). */
    public List<LoggedEvent> page(Query q) {
        StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS)
                .append(" FROM metering.usage_events WHERE org_id = ?");
        List<Object> binds = new ArrayList<>();
        binds.add(q.orgId());
        if (q.userId() != null) {
            sql.append(" AND user_id = ?");
            binds.add(q.userId());
        }
        if (q.conversationId() != null) {
            sql.append(" AND conversation_id = ?");
            binds.add(q.conversationId());
        }
        if (q.from() != null) {
            sql.append(" AND occurred_at >= CAST(? AS timestamptz)");
            binds.add(utc(q.from()));
        }
        if (q.to() != null) {
            sql.append(" AND occurred_at < CAST(? AS timestamptz)");
            binds.add(utc(q.to()));
        }
        if (q.after() != null) {
            sql.append(" AND (occurred_at, event_id) < (CAST(? AS timestamptz), ?)");
            binds.add(utc(q.after().occurredAt()));
            binds.add(q.after().eventId());
        }
        sql.append(" ORDER BY occurred_at DESC, event_id DESC LIMIT ?");
        binds.add(q.limit());
        return dsl.resultQuery(sql.toString(), binds.toArray()).fetch(EventLogRepository::event);
    }

    /** The counted event {@code eventId} of {@code orgId}, if the log (still) holds it. */
    public Optional<LoggedEvent> find(String orgId, String eventId) {
        return dsl.resultQuery("SELECT " + COLUMNS + " FROM metering.usage_events WHERE org_id = ? AND event_id = ? "
                + "ORDER BY occurred_at LIMIT 1", orgId, eventId).fetchOptional(EventLogRepository::event);
    }

    /** The newest dead letter of the event {@code eventId} of {@code orgId}, where the sink could decode it. */
    public Optional<DeadLettered> deadLettered(String orgId, String eventId) {
        return dsl.resultQuery("SELECT reason, message, stage, received_at FROM metering.dead_letters "
                        + "WHERE org_id = ? AND event_id = ? ORDER BY received_at DESC, id DESC LIMIT 1", orgId, eventId)
                .fetchOptional(r -> new DeadLettered(r.get(0, String.class), r.get(1, String.class),
                        r.get(2, String.class), instant(r.get(3, OffsetDateTime.class))));
    }

    private static LoggedEvent event(Record r) {
        return new LoggedEvent(r.get(0, String.class), r.get(1, String.class), instant(r.get(2, OffsetDateTime.class)),
                r.get(3, String.class), r.get(4, String.class), r.get(5, String.class), r.get(6, String.class),
                r.get(7, String.class), r.get(8, String.class), r.get(9, Long.class), r.get(10, Long.class),
                r.get(11, Long.class), r.get(12, Long.class), r.get(13, BigDecimal.class), r.get(14, Boolean.class),
                instant(r.get(15, OffsetDateTime.class)), instant(r.get(16, OffsetDateTime.class)), r.get(17, Long.class),
                r.get(18, Long.class), r.get(19, String.class));
    }

    private static OffsetDateTime utc(Instant t) {
        return t.atOffset(ZoneOffset.UTC);
    }

    private static Instant instant(OffsetDateTime t) {
        return t == null ? null : t.toInstant();
    }
}
