package dev.metering.api.enforcement;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.auth.Principal;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Requests;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Runtime enforcement (docs/contract.md, HTTP API), admin only: the global mode and canary percent, one org's
 * mode (no subscription, period or credit is touched), and the log of changes. Every change
 * records the calling key's id.
 */
public final class EnforcementRoutes implements RouteModule {

    private final RuntimeEnforcement enforcement;
    private final ObjectMapper mapper;
    private Auth auth;

    public EnforcementRoutes(RuntimeEnforcement enforcement, ObjectMapper mapper) {
        this.enforcement = enforcement;
        this.mapper = mapper;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        this.auth = auth;
        app.get("/api/v1/enforcement", this::get);
        app.put("/api/v1/enforcement", this::put);
        app.get("/api/v1/enforcement/changes", this::changes);
        app.put("/api/v1/orgs/{orgId}/enforcement", this::putOrg);
        app.delete("/api/v1/orgs/{orgId}/enforcement", this::deleteOrg);
    }

    private void get(Context ctx) {
        auth.requireAdmin(ctx);
        ctx.json(global(enforcement.snapshot()));
    }

    private void put(Context ctx) {
        Principal p = auth.requireAdmin(ctx);
        JsonNode body = Requests.jsonObject(ctx, mapper);
        Requests.onlyFields(body, Set.of("mode", "canaryPercent"));
        EnforcementRepository.Snapshot current = enforcement.snapshot();
        EnforcementMode mode = body.has("mode") ? mode(body) : current.mode();
        int canary = current.canaryPercent();
        JsonNode c = body.get("canaryPercent");
        if (c != null) {
            if (!c.isIntegralNumber() || !c.canConvertToInt() || c.intValue() < 0 || c.intValue() > 100) {
                throw ApiException.badRequest("canaryPercent", "expected a whole number from 0 to 100");
            }
            canary = c.intValue();
        }
        if (!body.has("mode") && c == null) {
            throw ApiException.badRequest("mode", "expected mode and/or canaryPercent");
        }
        enforcement.setGlobal(mode, canary, auth.actor(p));
        ctx.json(global(enforcement.snapshot()));
    }

    private void changes(Context ctx) {
        auth.requireAdmin(ctx);
        int limit = (int) Requests.longParam(ctx, "limit", 100, 1000);
        ctx.json(Map.of("changes", enforcement.repository().changes(limit)));
    }

    private void putOrg(Context ctx) {
        String org = Requests.orgId(ctx);
        Principal p = auth.requireAdmin(ctx);
        JsonNode body = Requests.jsonObject(ctx, mapper);
        Requests.onlyFields(body, Set.of("mode"));
        if (!body.has("mode")) {
            throw ApiException.badRequest("mode", "required");
        }
        boolean created = enforcement.setOrg(org, mode(body), auth.actor(p));
        EnforcementRepository.OrgMode m = enforcement.org(org);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("orgId", org);
        out.put("mode", m.mode().wireName());
        out.put("updatedAt", m.updatedAt());
        out.put("updatedBy", m.updatedBy());
        ctx.status(created ? 201 : 200).json(out);
    }

    private void deleteOrg(Context ctx) {
        String org = Requests.orgId(ctx);
        Principal p = auth.requireAdmin(ctx);
        if (!enforcement.deleteOrg(org, auth.actor(p))) {
            throw ApiException.notFound("org has no enforcement mode of its own");
        }
        ctx.status(204);
    }

    private static EnforcementMode mode(JsonNode body) {
        String text = Requests.text(body, "mode", true);
        return EnforcementMode.fromWireName(text).orElseThrow(() -> ApiException.badRequest("mode",
                "unknown mode '" + text + "' (expected off, shadow or enforce)"));
    }

    private static Map<String, Object> global(EnforcementRepository.Snapshot s) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mode", s.mode().wireName());
        out.put("canaryPercent", s.canaryPercent());
        out.put("orgOverrides", s.orgModes().size());
        out.put("updatedAt", s.updatedAt());
        out.put("updatedBy", s.updatedBy());
        return out;
    }
}
