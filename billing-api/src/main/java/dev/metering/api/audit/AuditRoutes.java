package dev.metering.api.audit;

import dev.metering.api.ApiException;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Paging;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/v1/audit?from=&to=&actor=&entity=&limit=&after=} (admin): the audit log newest
 * first, cursor-paginated as the other listings ({@code {items, next}}); {@code from} inclusive,
 * {@code to} exclusive.
 */
public final class AuditRoutes implements RouteModule {

    private static final int MAX_FILTER_LENGTH = 256;

    private final AuditLog log;

    public AuditRoutes(AuditLog log) {
        this.log = log;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/api/v1/audit", ctx -> list(ctx, auth));
    }

    private void list(Context ctx, Auth auth) {
        auth.requireAdmin(ctx);
        Instant from = instant(ctx, "from");
        Instant to = instant(ctx, "to");
        if (from != null && to != null && !to.isAfter(from)) {
            throw ApiException.badRequest("to", "must be after from");
        }
        int limit = Paging.limit(ctx.queryParam("limit"));
        List<AuditLog.Entry> rows = log.page(new AuditLog.Query(from, to, text(ctx, "actor"), text(ctx, "entity"),
                Paging.after(ctx, AuditRoutes::cursor), limit + 1));
        ctx.json(Paging.page(rows, limit, AuditRoutes::item, e -> encode(e.id())).body());
    }

    private static Map<String, Object> item(AuditLog.Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("at", e.at());
        m.put("actor", e.actor());
        m.put("action", e.action());
        m.put("entity", e.entity());
        m.put("entityId", e.entityId());
        m.put("before", e.before());
        m.put("after", e.after());
        return m;
    }

    static String encode(long id) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Long.toString(id).getBytes(StandardCharsets.US_ASCII));
    }

    private static Long cursor(String after) {
        if (after == null || after.isEmpty()) {
            return null;
        }
        try {
            long id = Long.parseLong(new String(Base64.getUrlDecoder().decode(after), StandardCharsets.US_ASCII));
            if (id < 1) {
                throw new NumberFormatException();
            }
            return id;
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("after", "not a cursor from a previous page's 'next'");
        }
    }

    private static String text(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.length() > MAX_FILTER_LENGTH) {
            throw ApiException.badRequest(name, "must be at most " + MAX_FILTER_LENGTH + " characters");
        }
        return v;
    }

    private static Instant instant(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        try {
            Instant t = Instant.parse(v);
            if (t.isBefore(Instant.parse("1970-01-01T00:00:00Z")) || t.isAfter(Instant.parse("9999-12-31T23:59:59Z"))) {
                throw ApiException.badRequest(name, "must be between 1970 and 9999");
            }
            return t;
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(name, "'" + v + "' is not an ISO-8601 instant such as 2026-11-22T00:00:00Z");
        }
    }
}
