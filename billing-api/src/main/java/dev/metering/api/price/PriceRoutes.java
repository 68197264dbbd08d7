package dev.metering.api.price;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import dev.metering.api.http.Auth;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code GET /api/v1/prices} (admin or any key with {@code read}; JSON, or CSV with
 * {@code Accept: text/csv}) and {@code PUT /api/v1/prices} (admin; {@code text/csv} or JSON):
 * every version given is upserted and each touched model published (see {@link PriceService}).
 * A PUT adds or corrects versions; it never deletes one.
 */
public final class PriceRoutes implements RouteModule {

    private final PriceService service;
    private final ObjectMapper mapper;

    public PriceRoutes(PriceService service, ObjectMapper mapper) {
        this.service = service;
        this.mapper = mapper;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/api/v1/prices", ctx -> get(ctx, auth));
        app.put("/api/v1/prices", ctx -> put(ctx, auth));
        app.exception(PriceBookException.class, (e, ctx) -> {
            Map<String, Object> err = new LinkedHashMap<>();
            err.put("code", "INVALID_PRICES");
            err.put("message", e.getMessage());
            err.put("field", e.problems().get(0).split(":", 2)[0]);
            err.put("problems", e.problems());
            ctx.status(400).json(Map.of("error", err));
        });
    }

    private void get(Context ctx, Auth auth) {
        auth.requireAny(ctx, Scope.READ);
        List<PriceVersion> all = service.all();
        if (wantsCsv(ctx.header("Accept"))) {
            ctx.contentType("text/csv; charset=utf-8").result(PriceBookFormat.toCsv(all));
            return;
        }
        ctx.json(Map.of("prices", all.stream().map(PriceBookFormat::json).toList()));
    }

    private void put(Context ctx, Auth auth) {
        Principal principal = auth.requireAdmin(ctx);
        String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        List<PriceVersion> versions;
        if (contentType.contains("csv")) {
            versions = PriceBookFormat.parseCsv(ctx.body());
        } else if (contentType.contains("json")) {
            JsonNode body;
            try {
                body = mapper.readTree(ctx.body());
            } catch (JsonProcessingException e) {
                throw ApiException.badRequest("body", "malformed JSON: " + e.getOriginalMessage());
            }
            versions = PriceBookFormat.parseJson(body);
        } else {
            throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type",
                    "send the price book as text/csv or application/json");
        }
        PriceService.Applied applied = service.apply(versions, auth.actor(principal));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("versions", applied.versions());
        out.put("models", applied.models());
        ctx.json(out);
    }

    static boolean wantsCsv(String accept) {
        return accept != null && accept.toLowerCase(Locale.ROOT).contains("text/csv");
    }
}
