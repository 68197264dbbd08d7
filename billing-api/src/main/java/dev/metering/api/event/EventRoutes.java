package dev.metering.api.event;

import dev.metering.api.ApiException;
import dev.metering.api.InputBounds;
import dev.metering.api.auth.Scope;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Paging;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Per-event usage (read scope; an org key sees only its own org):
 * <ul>
 * <li>{@code GET /api/v1/usage/{orgId}/events?from=&to=&userId=&conversationId=&limit=&after=}: the
 * org's counted events with their cost, newest first, {@code {items, next}} ({@code next} null on the
 * last page); with {@code Accept: text/csv} the same items as CSV (columns named like the JSON fields)
 * and the next page's URL in a {@code Link: <...>; rel="next"} header (absent on the last page);</li>
 * <li>{@code GET /api/v1/usage/{orgId}/events/{eventId}}: {@code counted} (in the event log),
 * {@code dead_lettered} (with the reason), or {@code unknown}.</li>
 * </ul>
 * Both answer 404 {@code EVENT_LOG_OFF} unless {@code METERING_EVENT_LOG=on}: without the log,
 * "not found" would not mean "not counted".
 *
 * <p>{@code duplicate} is never answered: streams' dedupe drops a re-sent copy of a counted event
 * (same org and eventId) without writing anything, so nothing in PostgreSQL tells a first send from
 * a retry. A re-sent duplicate therefore answers {@code counted}, which is what matters to the
 * sender: the eventId counts exactly once.
 */
public final class EventRoutes implements RouteModule {

    private static final int MAX_ID_LENGTH = 256;

    private final EventLogRepository repository;
    private final boolean eventLogOn;

    public EventRoutes(EventLogRepository repository, boolean eventLogOn) {
        this.repository = repository;
        this.eventLogOn = eventLogOn;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/api/v1/usage/{orgId}/events", ctx -> list(ctx, auth));
        app.get("/api/v1/usage/{orgId}/events/{eventId}", ctx -> status(ctx, auth));
    }

    private void list(Context ctx, Auth auth) {
        String org = id(ctx.pathParam("orgId"), "orgId");
        auth.requireOrg(ctx, org, Scope.READ);
        requireEventLog();
        Instant from = instant(ctx, "from");
        Instant to = instant(ctx, "to");
        if (from != null && to != null && !to.isAfter(from)) {
            throw ApiException.badRequest("to", "must be after from");
        }
        int limit = Paging.limit(ctx.queryParam("limit"));
        List<LoggedEvent> rows = repository.page(new EventLogRepository.Query(org, from, to, optional(ctx, "userId"),
                optional(ctx, "conversationId"), Paging.after(ctx, EventCursor::decode), limit + 1));
        Paging.Page<Map<String, Object>> page = Paging.page(rows, limit, EventRoutes::json,
                last -> new EventCursor(last.occurredAt(), last.eventId()).encode());
        List<Map<String, Object>> items = page.items();
        String next = page.next();
        String accept = ctx.header("Accept");
        if (accept != null && accept.toLowerCase(Locale.ROOT).contains("text/csv")) {
            // CSV has no envelope: the next page's URL travels in an RFC 8288 Link header
            if (next != null) {
                ctx.header("Link", "<" + nextUrl(ctx, next) + ">; rel=\"next\"");
            }
            ctx.contentType("text/csv; charset=utf-8");
            ctx.header("Content-Disposition", "attachment; filename=\"usage-events.csv\"");
            ctx.result(EventCsv.of(items));
            return;
        }
        ctx.json(page.body());
    }

    /** This request's path and query (every filter kept) with {@code after} set to {@code cursor}. */
    static String nextUrl(Context ctx, String cursor) {
        StringBuilder url = new StringBuilder(ctx.path()).append('?');
        ctx.queryParamMap().forEach((name, values) -> {
            if (!name.equals("after")) {
                values.forEach(v -> url.append(encode(name)).append('=').append(encode(v)).append('&'));
            }
        });
        return url.append("after=").append(encode(cursor)).toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private void status(Context ctx, Auth auth) {
        String org = id(ctx.pathParam("orgId"), "orgId");
        auth.requireOrg(ctx, org, Scope.READ);
        String eventId = id(ctx.pathParam("eventId"), "eventId");
        requireEventLog();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("eventId", eventId);
        out.put("orgId", org);
        Optional<LoggedEvent> counted = repository.find(org, eventId);
        if (counted.isPresent()) {
            // counted wins over a dead-lettered copy (e.g. a retry that arrived after grace): it counts once
            out.put("status", "counted");
            out.put("reason", null);
            out.putAll(json(counted.get()));
            ctx.json(out);
            return;
        }
        Optional<EventLogRepository.DeadLettered> dead = repository.deadLettered(org, eventId);
        out.put("status", dead.isPresent() ? "dead_lettered" : "unknown");
        out.put("reason", dead.map(EventLogRepository.DeadLettered::reason).orElse(null));
        out.put("message", dead.map(EventLogRepository.DeadLettered::message).orElse(null));
        out.put("stage", dead.map(EventLogRepository.DeadLettered::stage).orElse(null));
        out.put("deadLetteredAt", dead.map(d -> d.receivedAt().toString()).orElse(null));
        out.put("costUsd", null);
        ctx.json(out);
    }

    private void requireEventLog() {
        if (!eventLogOn) {
            throw new ApiException(404, "EVENT_LOG_OFF", null,
                    "the per-event log is off (METERING_EVENT_LOG=on in streams, sink and api turns it on)");
        }
    }

    static Map<String, Object> json(LoggedEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("eventId", e.eventId());
        m.put("occurredAt", e.occurredAt().toString());
        m.put("feature", e.feature());
        m.put("userId", e.userId());
        m.put("conversationId", e.conversationId());
        m.put("provider", e.provider());
        m.put("model", e.model());
        m.put("source", e.source());
        m.put("quantity", e.quantity());
        m.put("inputTokens", e.inputTokens());
        m.put("outputTokens", e.outputTokens());
        m.put("cachedInputTokens", e.cachedInputTokens());
        m.put("cacheWriteTokens", e.cacheWriteTokens());
        m.put("reasoningTokens", e.reasoningTokens());
        m.put("serviceTier", e.serviceTier());
        m.put("costUsd", money(e.costUsd()));
        m.put("priced", e.priced());
        m.put("priceEffectiveFrom", e.priceEffectiveFrom() == null ? null : e.priceEffectiveFrom().toString());
        m.put("recordedAt", e.recordedAt().toString());
        return m;
    }

    private static String money(BigDecimal d) {
        return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
    }

    private static String id(String value, String field) {
        if (value.isBlank() || value.length() > MAX_ID_LENGTH) {
            throw ApiException.badRequest(field, "must be 1-" + MAX_ID_LENGTH + " characters");
        }
        return value;
    }

    private static String optional(Context ctx, String name) {
        String v = ctx.queryParam(name);
        return v == null || v.isEmpty() ? null : id(v, name);
    }

    private static Instant instant(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        Instant t;
        try {
            t = Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(name, "'" + v + "' is not an ISO-8601 instant such as 2026-11-22T00:00:00Z");
        }
        if (InputBounds.instantProblem(t) != null) {
            throw ApiException.badRequest(name, v + " " + InputBounds.instantProblem(t));
        }
        return t;
    }
}
