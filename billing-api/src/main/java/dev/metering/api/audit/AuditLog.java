package dev.metering.api.audit;

import static dev.metering.db.jooq.Tables.AUDIT_LOG;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.JSON;
import org.jooq.impl.DSL;

/**
 * The audit log ({@code metering.audit_log}): who changed plans, subscriptions, credits, prices,
 * API keys, enforcement and webhooks, when, with a before/after summary. Writers call
 * {@link #write} with the DSL of the change's own transaction, so a change and its audit row
 * commit together or not at all.
 */
public final class AuditLog {

    /** A before or after larger than this is stored as {@code {truncated: true, bytes: n}}. */
    static final int MAX_STATE_BYTES = 16 * 1024;
    private static final ObjectMapper JSON_MAPPER = Json.mapper();

    /** One audited change as {@code GET /api/v1/audit} lists it. */
    public record Entry(long id, Instant at, String actor, String action, String entity, String entityId,
                        JsonNode before, JsonNode after) {
    }

    /** A page request: every filter optional; {@code beforeId} is the cursor (entries with a smaller id). */
    public record Query(Instant from, Instant to, String actor, String entity, Long beforeId, int limit) {
    }

    private final DSLContext dsl;

    public AuditLog(DSLContext dsl) {
        this.dsl = dsl;
    }

    /**
     * Records one change in {@code tx}'s transaction. {@code before} and {@code after} are
     * serialised as JSON (null: nothing before, or nothing after); never pass secrets.
     * A null {@code actor} records nothing (internal changes such as seeding).
     */
    public static void write(DSLContext tx, Actor actor, String action, String entity, String entityId, Object before,
                             Object after) {
        if (actor == null) {
            return;
        }
        tx.insertInto(AUDIT_LOG)
                .set(AUDIT_LOG.AT, actor.at().atOffset(ZoneOffset.UTC))
                .set(AUDIT_LOG.ACTOR, actor.id())
                .set(AUDIT_LOG.ACTION, action)
                .set(AUDIT_LOG.ENTITY, entity)
                .set(AUDIT_LOG.ENTITY_ID, entityId)
                .set(AUDIT_LOG.BEFORE, json(before))
                .set(AUDIT_LOG.AFTER, json(after))
                .execute();
    }

    static JSON json(Object state) {
        if (state == null) {
            return null;
        }
        try {
            byte[] bytes = JSON_MAPPER.writeValueAsBytes(state);
            if (bytes.length > MAX_STATE_BYTES) {
                Map<String, Object> truncated = new LinkedHashMap<>();
                truncated.put("truncated", true);
                truncated.put("bytes", bytes.length);
                bytes = JSON_MAPPER.writeValueAsBytes(truncated);
            }
            return JSON.valueOf(new String(bytes, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("audit state is not serialisable: " + e.getOriginalMessage(), e);
        }
    }

    /** Newest first (by id, the commit order of one writer), at most {@code q.limit()} entries. */
    public List<Entry> page(Query q) {
        Condition where = DSL.noCondition();
        if (q.from() != null) {
            where = where.and(AUDIT_LOG.AT.ge(q.from().atOffset(ZoneOffset.UTC)));
        }
        if (q.to() != null) {
            where = where.and(AUDIT_LOG.AT.lt(q.to().atOffset(ZoneOffset.UTC)));
        }
        if (q.actor() != null) {
            where = where.and(AUDIT_LOG.ACTOR.eq(q.actor()));
        }
        if (q.entity() != null) {
            where = where.and(AUDIT_LOG.ENTITY.eq(q.entity()));
        }
        if (q.beforeId() != null) {
            where = where.and(AUDIT_LOG.ID.lt(q.beforeId()));
        }
        return dsl.selectFrom(AUDIT_LOG).where(where).orderBy(AUDIT_LOG.ID.desc()).limit(q.limit())
                .fetch(r -> new Entry(r.getId(), r.getAt().toInstant(), r.getActor(), r.getAction(), r.getEntity(),
                        r.getEntityId(), tree(r.getBefore()), tree(r.getAfter())));
    }

    private static JsonNode tree(JSON json) {
        if (json == null) {
            return null;
        }
        try {
            return JSON_MAPPER.readTree(json.data());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("audit_log holds JSON this version cannot read", e);
        }
    }
}
