package dev.metering.api.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import dev.metering.api.http.ServiceRoutes;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code POST /api/v1/events}: one event object or an array of at most {@value #MAX_EVENTS};
 * {@code {accepted, rejected:[{index, code, field, message}], events:[{index, eventId, costUsd}]}}
 * ({@code events}: each accepted event's id, generated when absent, and its estimated cost), 202 after Kafka acknowledged the
 * accepted ones when at least one was; with none accepted, 403 if one was another org's, else
 * 400, with the same body. Keys: admin or an org key with scope {@code ingest}; an org key's
 * events for another org are rejected per index ({@code FORBIDDEN}, field {@code orgId}), the
 * rest of the batch goes through; so are events beyond grace ({@code LATE}). 413 above
 * {@value #MAX_EVENTS} events (the 1 MiB body limit is global).
 */
public final class IngestRoutes extends ServiceRoutes<IngestService> {

    public static final int MAX_EVENTS = 1000;

    /** {@code service} null: Kafka is not configured, the route answers 503. */
    public IngestRoutes(IngestService service, ObjectMapper mapper, Clock clock) {
        super(service, mapper, clock);
    }

    @Override
    protected void routes(Javalin app) {
        app.post("/api/v1/events", this::post);
    }

    private void post(Context ctx) {
        Principal p = auth.authenticate(ctx);
        if (!p.isAdmin() && !p.scopes().contains(Scope.INGEST)) {
            throw new ApiException(403, "FORBIDDEN", null, "this key lacks the 'ingest' scope");
        }
        JsonNode body;
        try {
            body = ctx.body().isBlank() ? null : mapper.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("body", "malformed JSON: " + e.getOriginalMessage());
        }
        if (body == null || !(body.isObject() || body.isArray())) {
            throw ApiException.badRequest("body", "expected an event object or an array of events");
        }
        List<JsonNode> nodes = new ArrayList<>();
        if (body.isArray()) {
            body.forEach(nodes::add);
        } else {
            nodes.add(body);
        }
        if (nodes.size() > MAX_EVENTS) {
            throw new ApiException(413, "PAYLOAD_TOO_LARGE", null, "the batch has " + nodes.size()
                    + " events; at most " + MAX_EVENTS + " are accepted per request");
        }
        if (nodes.isEmpty()) {
            throw ApiException.badRequest("body", "the array is empty");
        }
        if (service == null) {
            throw new ApiException(503, "UNAVAILABLE", null, "HTTP ingest is not configured on this instance "
                    + "(METERING_KAFKA_BOOTSTRAP and METERING_SCHEMA_REGISTRY_URL are unset)");
        }
        Instant now = clock.instant();
        List<IngestService.Item> items = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            try {
                items.add(new IngestService.Item(i, EventJson.parse(nodes.get(i), now, p.orgId(), UUID::randomUUID), null));
            } catch (EventJson.ShapeException e) {
                items.add(new IngestService.Item(i, null, e.problem));
            }
        }
        IngestService.Result result = service.ingest(items, p);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("accepted", result.accepted());
        out.put("rejected", result.rejected());
        out.put("events", result.events());
        ctx.status(result.status()).json(out);
    }
}
