package dev.metering.api.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.avro.UsageEvent;
import dev.metering.api.InputBounds;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * One JSON event (docs/contract.md, HTTP API: the {@code UsageEvent} field names) to a {@code UsageEvent}, or
 * the first shape problem (wrong type, unknown field). Rules on values are NOT checked here: that
 * is the shared {@code UsageEventValidator}'s job, exactly as in the Java client.
 *
 * <p>Defaults: {@code eventId} a random UUID only when absent (a given id is kept as is, so a
 * retry with the same id is deduplicated downstream); {@code occurredAt} now when absent;
 * {@code orgId} the key's org when absent and the key is org-scoped.
 */
public final class EventJson {

    static final Set<String> FIELDS = Set.of("eventId", "orgId", "occurredAt", "feature", "userId", "conversationId",
            "provider", "model", "source", "quantity", "inputTokens", "outputTokens", "cachedInputTokens", "costNanos",
            "attributes", "cacheWriteTokens", "reasoningTokens", "serviceTier");

    /** A shape problem of one event. */
    record Problem(String field, String code, String message) {
    }

    static final class ShapeException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Problem problem;

        ShapeException(String field, String code, String message) {
            super(message, null, false, false);
            this.problem = new Problem(field, code, message);
        }
    }

    private EventJson() {
    }

    /**
     * The inverse of {@link #parse}: an event as the JSON body {@code POST /api/v1/events} takes
     * ({@code occurredAt} as ISO-8601 UTC), e.g. to show a decoded dead letter or to re-send one.
     */
    public static Map<String, Object> toJson(UsageEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("eventId", e.getEventId());
        m.put("orgId", e.getOrgId());
        m.put("occurredAt", e.getOccurredAt() == null ? null : e.getOccurredAt().toString());
        m.put("feature", e.getFeature());
        m.put("userId", e.getUserId());
        m.put("conversationId", e.getConversationId());
        m.put("provider", e.getProvider());
        m.put("model", e.getModel());
        m.put("source", e.getSource());
        m.put("quantity", e.getQuantity());
        m.put("inputTokens", e.getInputTokens());
        m.put("outputTokens", e.getOutputTokens());
        m.put("cachedInputTokens", e.getCachedInputTokens());
        m.put("costNanos", e.getCostNanos());
        m.put("attributes", e.getAttributes());
        m.put("cacheWriteTokens", e.getCacheWriteTokens());
        m.put("reasoningTokens", e.getReasoningTokens());
        m.put("serviceTier", e.getServiceTier());
        return m;
    }

    static UsageEvent parse(JsonNode node, Instant now, String defaultOrg, Supplier<UUID> ids) {
        if (node == null || !node.isObject()) {
            throw new ShapeException("", "INVALID_TYPE", "expected a JSON object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new ShapeException(f, "UNKNOWN_FIELD", "unknown field '" + f + "'");
            }
        }
        UsageEvent e = new UsageEvent();
        String eventId = text(node, "eventId");
        e.setEventId(eventId == null ? ids.get().toString() : eventId);
        String org = text(node, "orgId");
        e.setOrgId(org == null ? (defaultOrg == null ? "" : defaultOrg) : org);
        e.setOccurredAt(instant(node, "occurredAt", now));
        String feature = text(node, "feature");
        e.setFeature(feature == null ? "" : feature);
        e.setUserId(text(node, "userId"));
        e.setConversationId(text(node, "conversationId"));
        e.setProvider(text(node, "provider"));
        e.setModel(text(node, "model"));
        e.setSource(text(node, "source"));
        e.setQuantity(longValue(node, "quantity", 1L));
        e.setInputTokens(longValue(node, "inputTokens", 0L));
        e.setOutputTokens(longValue(node, "outputTokens", 0L));
        e.setCachedInputTokens(longValue(node, "cachedInputTokens", 0L));
        e.setCostNanos(longValue(node, "costNanos", null));
        e.setAttributes(attributes(node));
        e.setCacheWriteTokens(longValue(node, "cacheWriteTokens", 0L));
        e.setReasoningTokens(longValue(node, "reasoningTokens", 0L));
        e.setServiceTier(text(node, "serviceTier"));
        return e;
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new ShapeException(field, "INVALID_TYPE", field + " must be a string");
        }
        return v.asText();
    }

    private static Long longValue(JsonNode node, String field, Long dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new ShapeException(field, "INVALID_TYPE", field + " must be a whole number, got " + v);
        }
        return v.longValue();
    }

    private static Instant instant(JsonNode node, String field, Instant now) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return now;
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return inRange(field, InputBounds.epochMillis(v.longValue()), v);
        }
        if (v.isTextual()) {
            Instant t = null;
            try {
                t = Instant.parse(v.asText());
            } catch (DateTimeParseException e) {
                // fall through
            }
            if (t != null) {
                return inRange(field, InputBounds.instantProblem(t) == null ? t : null, v);
            }
        }
        throw new ShapeException(field, "INVALID_TYPE", field + " must be epoch milliseconds or an ISO-8601 instant "
                + "such as 2026-11-22T18:30:00Z, got " + v);
    }

    private static Instant inRange(String field, Instant t, JsonNode v) {
        if (t == null) {
            throw new ShapeException(field, "INVALID_FORMAT", field + " " + InputBounds.instantProblem(Instant.MAX)
                    + ", got " + v);
        }
        return t;
    }

    private static Map<String, String> attributes(JsonNode node) {
        JsonNode v = node.get("attributes");
        Map<String, String> out = new LinkedHashMap<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isObject()) {
            throw new ShapeException("attributes", "INVALID_TYPE", "attributes must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> a = it.next();
            if (!a.getValue().isTextual()) {
                throw new ShapeException("attributes." + a.getKey(), "INVALID_TYPE", "attribute values must be strings");
            }
            out.put(a.getKey(), a.getValue().asText());
        }
        return out;
    }
}
