package dev.metering.api.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.auth.Scope;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Paging;
import dev.metering.api.http.Requests;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /api/v1/usage/{orgId}/alerts?type=&limit=&after=} (read; an org key only its own
 * org): the alerts recorded for the org, newest first, {@code {items, next}}; each item is
 * {@code {id, type, createdAt, messageId, data}} with the webhook payload's {@code data} and its
 * {@code webhook-id}. {@code next} (null on the last page) is an opaque cursor over the last
 * alert's (createdAt, id), so an alert recorded while paging never shifts a page already read.
 */
public final class AlertListRoutes implements RouteModule {

    private final AlertRepository repository;
    private final ObjectMapper mapper;

    public AlertListRoutes(AlertRepository repository, ObjectMapper mapper) {
        this.repository = repository;
        this.mapper = mapper;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/api/v1/usage/{orgId}/alerts", ctx -> list(ctx, auth));
    }

    private void list(Context ctx, Auth auth) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.READ);
        String typeText = ctx.queryParam("type");
        AlertType type = typeText == null || typeText.isEmpty() ? null : AlertType.fromWireName(typeText)
                .orElseThrow(() -> ApiException.badRequest("type", "unknown alert type '" + typeText
                        + "' (expected limit.threshold_reached, balance.low or credits.expiring)"));
        Paging.answer(ctx, Cursor::decode, (after, limit) -> repository.page(org, type, after, limit), this::item,
                last -> new Cursor(last.createdAt(), last.id()).encode());
    }

    private Map<String, Object> item(AlertRepository.Recorded a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("type", a.type());
        m.put("createdAt", a.createdAt());
        m.put("messageId", a.messageId());
        try {
            m.put("data", mapper.readTree(a.body()).get("data"));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    /** Where a page ended: the last alert's (createdAt in microseconds, id), base64url. */
    record Cursor(Instant createdAt, long id) {

        String encode() {
            long micros = Math.addExact(Math.multiplyExact(createdAt.getEpochSecond(), 1_000_000L), createdAt.getNano() / 1_000);
            return Base64.getUrlEncoder().withoutPadding().encodeToString((micros + ":" + id).getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String text) {
            try {
                if (text.length() > 64) {
                    throw new IllegalArgumentException();
                }
                String[] parts = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8).split(":", -1);
                if (parts.length != 2) {
                    throw new IllegalArgumentException();
                }
                long micros = Long.parseLong(parts[0]);
                return new Cursor(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                        Math.floorMod(micros, 1_000_000L) * 1_000L), Long.parseLong(parts[1]));
            } catch (IllegalArgumentException | java.time.DateTimeException e) {
                throw ApiException.badRequest("after", "not a cursor from a previous page's 'next'");
            }
        }
    }
}
