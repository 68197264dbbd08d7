package dev.metering.api.deadletter;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.InputBounds;
import dev.metering.api.event.EventCursor;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Json;
import dev.metering.api.http.RouteModule;
import dev.metering.api.kafka.KafkaClients;
import dev.metering.api.ingest.EventJson;
import dev.metering.avro.UsageEvent;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code GET /api/v1/dead-letters?reason=&since=&limit=&after=} (admin): what the pipeline refused,
 * newest first, {@code {deadLetters, next}}. Key and payload are given in base64 (the original
 * bytes); the key also as text when it is UTF-8, and the payload decoded as a {@code UsageEvent}
 * when it decodes (e.g. {@code INVALID} and {@code LATE} records; {@code MALFORMED} ones do not).
 * A page holds at most {@code limit} rows and about {@value #MAX_PAGE_BYTES} bytes of JSON; a key
 * or payload past {@value #PREVIEW_BYTES} bytes is shown cut, with its size, and whole by
 * {@code GET /api/v1/dead-letters/{id}}.
 */
public final class DeadLetterRoutes implements RouteModule {

    private static final Pattern REASON = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
    private static final int MAX_LIMIT = 1000;
    static final int PREVIEW_BYTES = 8 * 1024;
    static final int MAX_PAGE_BYTES = 1_048_576;
    private static final ObjectMapper JSON = Json.mapper();

    private final DeadLetterRepository repository;
    private final KafkaClients kafka;

    /** {@code kafka} null: payloads are not decoded. */
    public DeadLetterRoutes(DeadLetterRepository repository, KafkaClients kafka) {
        this.repository = repository;
        this.kafka = kafka;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/api/v1/dead-letters", ctx -> list(ctx, auth));
        app.get("/api/v1/dead-letters/{id}", ctx -> one(ctx, auth));
    }

    private void one(Context ctx, Auth auth) {
        auth.requireAdmin(ctx);
        String text = ctx.pathParam("id");
        long id;
        try {
            id = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("id", "'" + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
                    + "' is not a dead letter id (a whole number)");
        }
        DeadLetter d = repository.byId(id).orElseThrow(() -> ApiException.notFound("no dead letter " + id));
        ctx.json(json(d));
    }

    private void list(Context ctx, Auth auth) throws java.io.IOException {
        auth.requireAdmin(ctx);
        String reason = ctx.queryParam("reason");
        if (reason != null && reason.isEmpty()) {
            reason = null;
        }
        if (reason != null && !REASON.matcher(reason).matches()) {
            throw ApiException.badRequest("reason", "'" + reason + "' is not a reason such as MALFORMED, "
                    + "UNKNOWN_SCHEMA, INVALID, LATE");
        }
        Instant since = null;
        String sinceText = ctx.queryParam("since");
        if (sinceText != null && !sinceText.isEmpty()) {
            try {
                since = Instant.parse(sinceText);
                if (InputBounds.instantProblem(since) != null) {
                    throw ApiException.badRequest("since", sinceText + " " + InputBounds.instantProblem(since));
                }
            } catch (DateTimeParseException e) {
                throw ApiException.badRequest("since", "'" + sinceText + "' is not an ISO-8601 instant such as "
                        + "2026-11-22T00:00:00Z");
            }
        }
        int limit = 100;
        String limitText = ctx.queryParam("limit");
        if (limitText != null && !limitText.isEmpty()) {
            try {
                limit = Integer.parseInt(limitText);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("limit", "'" + limitText + "' is not a whole number");
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw ApiException.badRequest("limit", "must be 1-" + MAX_LIMIT + ", got " + limit);
            }
        }
        EventCursor after = null;
        Long afterId = null;
        String afterText = ctx.queryParam("after");
        if (afterText != null && !afterText.isEmpty()) {
            after = EventCursor.decode(afterText);
            try {
                afterId = Long.parseLong(after.eventId());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("after", "not a cursor from a previous page's 'next'");
            }
        }
        // one row more than the page tells whether there is a next page
        List<DeadLetter> rows = repository.newest(reason, since, after == null ? null : after.occurredAt(), afterId,
                limit + 1, PREVIEW_BYTES);
        List<Map<String, Object>> out = new ArrayList<>();
        long bytes = 0;
        DeadLetter last = null;
        for (DeadLetter d : rows.subList(0, Math.min(limit, rows.size()))) {
            Map<String, Object> item = json(d);
            long size = JSON.writeValueAsBytes(item).length;
            // the byte cap ends the page early; it always holds at least one row
            if (!out.isEmpty() && bytes + size > MAX_PAGE_BYTES) {
                break;
            }
            out.add(item);
            bytes += size;
            last = d;
        }
        boolean more = rows.size() > out.size();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("deadLetters", out);
        body.put("next", more && last != null ? new EventCursor(last.receivedAt(), Long.toString(last.id())).encode() : null);
        ctx.json(body);
    }

    private Map<String, Object> json(DeadLetter d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.id());
        m.put("reason", d.reason());
        m.put("message", d.message());
        m.put("stage", d.stage());
        m.put("topic", d.topic());
        m.put("partition", d.partition());
        m.put("offset", d.offset());
        m.put("recordTimestamp", d.recordTimestamp() == null ? null : d.recordTimestamp().toString());
        m.put("receivedAt", d.receivedAt().toString());
        m.put("key", d.keyTruncated() ? null : utf8(d.key()));
        m.put("keyBase64", d.key() == null ? null : Base64.getEncoder().encodeToString(d.key()));
        m.put("keyBytes", d.key() == null ? null : d.keyLength());
        m.put("keyTruncated", d.keyTruncated());
        m.put("payloadBase64", d.payload() == null ? null : Base64.getEncoder().encodeToString(d.payload()));
        m.put("payloadBytes", d.payload() == null ? null : d.payloadLength());
        m.put("payloadTruncated", d.payloadTruncated());
        m.put("payload", d.payloadTruncated() ? null : decode(d));
        return m;
    }

    private static String utf8(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private Map<String, Object> decode(DeadLetter d) {
        if (kafka == null || d.payload() == null || d.payload().length < 5 || d.payload()[0] != 0) {
            return null;
        }
        try {
            UsageEvent e = kafka.eventDeserializer().deserialize(d.topic(), d.payload());
            if (e == null) {
                return null;
            }
            return EventJson.toJson(e);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
