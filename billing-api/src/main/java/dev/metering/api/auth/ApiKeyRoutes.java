package dev.metering.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.account.BillingService;
import dev.metering.api.audit.Actor;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.Paging;
import dev.metering.api.http.Requests;
import dev.metering.api.http.RouteModule;
import dev.metering.api.store.ApiKeyRepository;
import dev.metering.api.store.ApiKeyRepository.KeyInfo;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Key management (admin, docs/contract.md, API keys): {@code POST /api/v1/api-keys},
 * {@code DELETE /api/v1/api-keys/{id}}, {@code GET /api/v1/api-keys?orgId=&limit=&after=}
 * ({@code {items, next}} in id order), {@code GET /api/v1/api-keys/{id}} and
 * {@code POST /api/v1/api-keys/{id}/rotate}; and {@code GET /api/v1/me} for any key. No answer
 * here ever holds a key's secret or hash, except the one new key a creation or rotation returns.
 */
public final class ApiKeyRoutes implements RouteModule {

    static final Duration DEFAULT_GRACE = Duration.ofHours(24);
    static final Duration MAX_GRACE = Duration.ofDays(30);
    /** The furthest expiry a key may be given, in years. */
    static final int MAX_LIFETIME_YEARS = 5;

    private final BillingService service;
    private final ApiKeyRepository keys;
    private final ApiKeyCache cache;
    private final ObjectMapper mapper;
    private final Clock clock;

    public ApiKeyRoutes(BillingService service, ApiKeyRepository keys, ApiKeyCache cache, ObjectMapper mapper,
                        Clock clock) {
        this.service = service;
        this.keys = keys;
        this.cache = cache;
        this.mapper = mapper;
        this.clock = clock;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.post("/api/v1/api-keys", ctx -> create(ctx, auth));
        app.delete("/api/v1/api-keys/{id}", ctx -> revoke(ctx, auth));
        app.get("/api/v1/me", ctx -> me(ctx, auth));
        app.get("/api/v1/api-keys", ctx -> list(ctx, auth));
        app.get("/api/v1/api-keys/{id}", ctx -> get(ctx, auth));
        app.post("/api/v1/api-keys/{id}/rotate", ctx -> rotate(ctx, auth));
    }

    /**
     * The optional {@code expiresAt} of a new key: after now and at most {@value #MAX_LIFETIME_YEARS}
     * years ahead; null when absent.
     */
    static Instant expiresAt(JsonNode body, Instant now) {
        Instant at = Requests.instant(body, "expiresAt");
        if (at == null) {
            return null;
        }
        if (!at.isAfter(now)) {
            throw ApiException.badRequest("expiresAt", "must be in the future");
        }
        if (at.isAfter(now.atOffset(ZoneOffset.UTC).plusYears(MAX_LIFETIME_YEARS).toInstant())) {
            throw ApiException.badRequest("expiresAt", "must be at most " + MAX_LIFETIME_YEARS + " years ahead");
        }
        return at;
    }

    private void create(Context ctx, Auth auth) {
        Principal p = auth.requireAdmin(ctx);
        JsonNode body = Requests.jsonObject(ctx, mapper);
        Requests.onlyFields(body, Set.of("orgId", "scopes", "expiresAt"));
        String org = Requests.text(body, "orgId", false);
        if (org != null && org.length() > Requests.MAX_ID_LENGTH) {
            throw ApiException.badRequest("orgId", "must be at most " + Requests.MAX_ID_LENGTH + " characters");
        }
        JsonNode scopesNode = body.get("scopes");
        if (scopesNode == null || !scopesNode.isArray() || scopesNode.isEmpty()) {
            throw ApiException.badRequest("scopes", "expected a non-empty list of ingest, read, check (or [admin] without orgId)");
        }
        Set<Scope> scopes = EnumSet.noneOf(Scope.class);
        for (JsonNode s : scopesNode) {
            scopes.add(Scope.fromWireName(s.asText()).orElseThrow(() -> ApiException.badRequest("scopes",
                    "unknown scope '" + s.asText() + "' (expected ingest, read, check or admin)")));
        }
        if (scopes.contains(Scope.ADMIN) && (org != null || scopes.size() > 1)) {
            throw ApiException.badRequest("scopes", "an admin key has the single scope admin and no orgId");
        }
        if (!scopes.contains(Scope.ADMIN) && org == null) {
            throw ApiException.badRequest("orgId", "required for keys with scopes " + scopesNode);
        }
        Instant expiresAt = expiresAt(body, clock.instant());
        BillingService.CreatedKey k = service.createKey(org, scopes, expiresAt, auth.actor(p));
        ctx.status(201).json(Bodies.key(k.id(), k.key(), k.orgId(), k.scopes(), expiresAt));
    }

    private void revoke(Context ctx, Auth auth) {
        Principal p = auth.requireAdmin(ctx);
        if (!service.revokeKey(ctx.pathParam("id"), auth.actor(p))) {
            throw ApiException.notFound("no active API key with id '" + ctx.pathParam("id") + "'");
        }
        ctx.status(204);
    }

    /** Who the key is (the dashboard's sign-in): never the key itself. */
    private void me(Context ctx, Auth auth) {
        Principal p = auth.authenticate(ctx);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("keyId", p.keyId());
        body.put("orgId", p.orgId());
        body.put("scopes", p.scopes().stream().map(Scope::wireName).sorted().toList());
        ctx.json(body);
    }

    private void list(Context ctx, Auth auth) {
        auth.requireAdmin(ctx);
        String org = emptyAsNull(ctx.queryParam("orgId"));
        if (org != null && org.length() > Requests.MAX_ID_LENGTH) {
            throw ApiException.badRequest("orgId", "must be at most " + Requests.MAX_ID_LENGTH + " characters");
        }
        Paging.answer(ctx, Paging::decodeId, (after, limit) -> keys.page(org, after, limit), this::body,
                k -> Paging.encodeId(k.id()));
    }

    private void get(Context ctx, Auth auth) {
        auth.requireAdmin(ctx);
        String id = id(ctx);
        ctx.json(body(keys.find(id).orElseThrow(() -> ApiException.notFound("no API key with id '" + id + "'"))));
    }

    private void rotate(Context ctx, Auth auth) {
        Principal caller = auth.requireAdmin(ctx);
        String id = id(ctx);
        Instant now = clock.instant();
        Duration grace = DEFAULT_GRACE;
        Instant newExpiresAt = null;
        if (!ctx.body().isBlank()) {
            JsonNode body = Requests.jsonObject(ctx, mapper);
            Requests.onlyFields(body, Set.of("graceSeconds", "expiresAt"));
            JsonNode g = body.get("graceSeconds");
            if (g != null && !g.isNull()) {
                if (!g.isIntegralNumber() || !g.canConvertToLong() || g.longValue() < 0
                        || g.longValue() > MAX_GRACE.toSeconds()) {
                    throw ApiException.badRequest("graceSeconds", "expected a whole number of seconds from 0 to "
                            + MAX_GRACE.toSeconds());
                }
                grace = Duration.ofSeconds(g.longValue());
            }
            newExpiresAt = expiresAt(body, now);
        }
        String key = ApiKeys.newKey();
        String newId = ApiKeys.newId();
        ApiKeyRepository.Rotation r = keys.rotate(id, newId, ApiKeys.sha256(key), now.plus(grace), newExpiresAt,
                Actor.of(caller, now));
        switch (r.outcome()) {
            case NOT_FOUND -> throw ApiException.notFound("no active API key with id '" + id + "'");
            case ALREADY_ROTATED -> throw new ApiException(409, "CONFLICT", null, "key '" + id
                    + "' was already rotated to '" + r.old().replacedBy() + "'; rotate that one instead");
            case ROTATED -> {
                // this instance must not keep accepting the old key past its new expiry
                cache.invalidateAll();
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("id", newId);
                out.put("key", key);
                out.put("orgId", r.old().orgId());
                out.put("scopes", r.old().scopes().stream().map(Scope::wireName).sorted().toList());
                out.put("expiresAt", newExpiresAt);
                out.put("previous", body(r.old()));
                ctx.status(201).json(out);
            }
        }
    }

    private Map<String, Object> body(KeyInfo k) {
        Instant pending = cache.pendingLastUse(k.id());
        Instant lastUsed = k.lastUsedAt() == null || pending != null && pending.isAfter(k.lastUsedAt())
                ? pending : k.lastUsedAt();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", k.id());
        out.put("orgId", k.orgId());
        out.put("scopes", k.scopes().stream().map(Scope::wireName).sorted().toList());
        out.put("createdAt", k.createdAt());
        out.put("expiresAt", k.expiresAt());
        out.put("lastUsedAt", lastUsed);
        out.put("revokedAt", k.revokedAt());
        out.put("replacedBy", k.replacedBy());
        return out;
    }

    private static String id(Context ctx) {
        String id = ctx.pathParam("id");
        if (id.isBlank() || id.length() > Requests.MAX_ID_LENGTH) {
            throw ApiException.badRequest("id", "must be 1-" + Requests.MAX_ID_LENGTH + " characters");
        }
        return id;
    }

    private static String emptyAsNull(String v) {
        return v == null || v.isEmpty() ? null : v;
    }
}
