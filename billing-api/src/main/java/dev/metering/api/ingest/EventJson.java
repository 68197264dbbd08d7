package dev.metering.api.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.avro.UsageEvent;
import dev.metering.api.json.JsonFields;
import java.time.Instant;
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

    /** The first shape problem ends the event; values out of range are a format problem, the rest a type problem. */
    private static final JsonFields.Problems FIRST_PROBLEM = (field, kind, message) -> {
        throw new ShapeException(field, switch (kind) {
            case UNKNOWN -> "UNKNOWN_FIELD";
            case RANGE -> "INVALID_FORMAT";
            default -> "INVALID_TYPE";
        }, kind == JsonFields.Kind.UNKNOWN ? "unknown field '" + field + "'" : field + " " + message);
    };

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
        JsonFields f = new JsonFields(node, "", FIRST_PROBLEM);
        f.onlyFields(FIELDS, "");
        UsageEvent e = new UsageEvent();
        String eventId = f.string("eventId");
        e.setEventId(eventId == null ? ids.get().toString() : eventId);
        String org = f.string("orgId");
        e.setOrgId(org == null ? (defaultOrg == null ? "" : defaultOrg) : org);
        e.setOccurredAt(f.instant("occurredAt", now));
        String feature = f.string("feature");
        e.setFeature(feature == null ? "" : feature);
        e.setUserId(f.string("userId"));
        e.setConversationId(f.string("conversationId"));
        e.setProvider(f.string("provider"));
        e.setModel(f.string("model"));
        e.setSource(f.string("source"));
        e.setQuantity(f.wholeNumber("quantity", 1L));
        e.setInputTokens(f.wholeNumber("inputTokens", 0L));
        e.setOutputTokens(f.wholeNumber("outputTokens", 0L));
        e.setCachedInputTokens(f.wholeNumber("cachedInputTokens", 0L));
        e.setCostNanos(f.wholeNumber("costNanos", null));
        e.setAttributes(attributes(f.get("attributes")));
        e.setCacheWriteTokens(f.wholeNumber("cacheWriteTokens", 0L));
        e.setReasoningTokens(f.wholeNumber("reasoningTokens", 0L));
        e.setServiceTier(f.string("serviceTier"));
        return e;
    }

    private static Map<String, String> attributes(JsonNode v) {
        Map<String, String> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!v.isObject()) {
            throw new ShapeException("attributes", "INVALID_TYPE", "attributes must be an object of strings");
        }
        JsonFields values = new JsonFields(v, "attributes.", FIRST_PROBLEM);
        for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            String value = values.string(name);
            if (value == null) { // a null value: Avro's map holds strings only
                throw new ShapeException("attributes." + name, "INVALID_TYPE", "attributes." + name + " must be a string");
            }
            out.put(name, value);
        }
        return out;
    }
}
