package dev.metering.api.reservation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.auth.Scope;
import dev.metering.api.check.CheckResult;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.Requests;
import dev.metering.api.http.ServiceRoutes;
import dev.metering.api.plan.CatalogParser;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reservations (docs/contract.md, Reservations), {@code check} scope: reserve (a check that holds
 * its amount when allowed, idempotent by requestId), settle, release.
 */
public final class ReservationRoutes extends ServiceRoutes<ReservationService> {

    private static final long MAX_COUNT = 1_000_000_000L;
    private static final Set<String> FIELDS = Set.of("requestId", "feature", "userId", "conversationId", "quantity",
            "tokens", "costUsd", "ttlSeconds");

    public ReservationRoutes(ReservationService reservations, ObjectMapper mapper, Clock clock) {
        super(reservations, mapper, clock);
    }

    @Override
    protected void routes(Javalin app) {
        app.post("/api/v1/usage/{orgId}/reservations", this::reserve);
        app.post("/api/v1/usage/{orgId}/reservations/{reservationId}/settle", this::settle);
        app.delete("/api/v1/usage/{orgId}/reservations/{reservationId}", this::release);
    }

    private void reserve(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.CHECK);
        ReservationRequest request = parse(org, Requests.jsonObject(ctx, mapper));
        ReservationService.Answer answer = service.reserve(request, this::render);
        ctx.status(answer.held() && !answer.repeated() ? 201 : 200).contentType("application/json")
                .result(answer.json());
    }

    private void settle(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.CHECK);
        String eventId = null;
        if (!ctx.body().isBlank()) {
            JsonNode body = Requests.jsonObject(ctx, mapper);
            Requests.onlyFields(body, Set.of("eventId"));
            eventId = Requests.text(body, "eventId", false);
            if (eventId != null && eventId.length() > Requests.MAX_ID_LENGTH) {
                throw ApiException.badRequest("eventId", "must be at most " + Requests.MAX_ID_LENGTH + " characters");
            }
        }
        Reservation r = service.settle(org, reservationId(ctx), eventId);
        ctx.json(body(r));
    }

    private void release(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.CHECK);
        service.release(org, reservationId(ctx));
        ctx.status(204);
    }

    private static String reservationId(Context ctx) {
        String id = ctx.pathParam("reservationId");
        if (id.isBlank() || id.length() > Requests.MAX_ID_LENGTH) {
            throw ApiException.badRequest("reservationId", "must be 1-" + Requests.MAX_ID_LENGTH + " characters");
        }
        return id;
    }

    private Map<String, Object> body(Reservation r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("reservationId", r.id());
        out.put("requestId", r.requestId());
        out.put("orgId", r.orgId());
        out.put("feature", r.feature());
        out.put("status", r.status(clock.instant()));
        out.put("createdAt", r.createdAt());
        out.put("expiresAt", r.expiresAt());
        out.put("settledAt", r.settledAt());
        out.put("eventId", r.eventId());
        return out;
    }

    /** The check's JSON object with {@code reservationId} and {@code expiresAt} appended, written in one pass. */
    private String render(CheckResult result, Reservation hold) {
        try {
            String check = mapper.writeValueAsString(Bodies.check(result));
            return check.substring(0, check.lastIndexOf('}')) + ",\"reservationId\":"
                    + mapper.writeValueAsString(hold == null ? null : hold.id()) + ",\"expiresAt\":"
                    + mapper.writeValueAsString(hold == null ? null : hold.expiresAt()) + "}";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ReservationRequest parse(String org, JsonNode body) {
        Requests.onlyFields(body, FIELDS);
        String requestId = Requests.text(body, "requestId", true);
        if (requestId.length() > Requests.MAX_ID_LENGTH) {
            throw ApiException.badRequest("requestId", "must be at most " + Requests.MAX_ID_LENGTH + " characters");
        }
        String feature = Requests.text(body, "feature", true);
        if (!CatalogParser.FEATURE_CODE.matcher(feature).matches()) {
            throw ApiException.badRequest("feature", "'" + feature + "' is not a feature code "
                    + CatalogParser.FEATURE_CODE.pattern());
        }
        String userId = dimension(body, "userId");
        String conversationId = dimension(body, "conversationId");
        long quantity = whole(body, "quantity", 1, MAX_COUNT);
        long tokens = whole(body, "tokens", 0, MAX_COUNT);
        JsonNode cost = body.get("costUsd");
        BigDecimal costUsd = cost == null || cost.isNull() ? BigDecimal.ZERO : Requests.decimal("costUsd", cost, false);
        int ttl = (int) whole(body, "ttlSeconds", ReservationRequest.DEFAULT_TTL_SECONDS,
                ReservationRequest.MAX_TTL_SECONDS);
        if (ttl < 1) {
            throw ApiException.badRequest("ttlSeconds", "must be at least 1");
        }
        return new ReservationRequest(org, requestId, feature, userId, conversationId, quantity, tokens, costUsd, ttl);
    }

    private static String dimension(JsonNode body, String field) {
        String v = Requests.text(body, field, false);
        if (v != null && v.length() > Requests.MAX_ID_LENGTH) {
            throw ApiException.badRequest(field, "must be at most " + Requests.MAX_ID_LENGTH + " characters");
        }
        return v;
    }

    private static long whole(JsonNode body, String field, long dflt, long max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badRequest(field, "expected a whole number");
        }
        long n = v.longValue();
        if (n < 0 || n > max) {
            throw ApiException.badRequest(field, "must be from 0 to " + max + ", got " + n);
        }
        return n;
    }
}
