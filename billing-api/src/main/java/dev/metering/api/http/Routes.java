package dev.metering.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.account.AccountCache;
import dev.metering.api.account.BillingService;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import dev.metering.api.check.CheckRequest;
import dev.metering.api.check.CheckResult;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.Freshness;
import dev.metering.api.metrics.ApiMetrics;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.CatalogValidationException;
import dev.metering.api.plan.Plan;
import dev.metering.api.plan.PlanLimit;
import dev.metering.api.ratelimit.RateLimitSettings;
import dev.metering.api.ratelimit.RateLimits;
import dev.metering.api.store.Database;
import dev.metering.api.store.IdempotencyRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.subscription.SubscriptionStatus;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import jakarta.servlet.DispatcherType;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.servlet.FilterHolder;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jooq.exception.DataAccessException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every route of the API, registered in one place (production, tests and the benchmark all use
 * {@link #create}). Handlers only parse, authorize and render; the work is in
 * {@link BillingService} and the domain classes.
 */
public final class Routes {

    private static final Logger log = LoggerFactory.getLogger(Routes.class);
    static final long MAX_BODY_BYTES = 1_048_576;
    /** Bulk imports ({@code POST .../import}) read their body themselves, up to this bound. */
    public static final long MAX_IMPORT_BODY_BYTES = 32L * 1_048_576;
    private static final long MAX_COUNT = 1_000_000_000L;
    private static final String ERROR_RENDERED = "metering.errorRendered";

    private final BillingService service;
    private final Database database;
    private final ApiMetrics metrics;
    private final Auth auth;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final List<RouteModule> modules;

    private Routes(BillingService service, Database database, ApiMetrics metrics, ObjectMapper mapper, Clock clock,
                   List<RouteModule> modules, RateLimits limits) {
        this.modules = List.copyOf(modules);
        this.service = service;
        this.database = database;
        this.metrics = metrics;
        this.auth = new Auth(service.cache().keys(), limits, clock);
        this.mapper = mapper;
        this.clock = clock;
    }

    /** The configured, not yet started server with every route. */
    public static Javalin create(BillingService service, Database database, ApiMetrics metrics, Clock clock) {
        return create(service, database, metrics, clock, List.of());
    }

    /** The same, plus the routes of {@code modules}, without rate limits. */
    public static Javalin create(BillingService service, Database database, ApiMetrics metrics, Clock clock,
                                 List<RouteModule> modules) {
        return create(service, database, metrics, clock, modules,
                new RateLimits(RateLimitSettings.OFF, clock, metrics.registry()));
    }

    /** The same, with these rate limits. */
    public static Javalin create(BillingService service, Database database, ApiMetrics metrics, Clock clock,
                                 List<RouteModule> modules, RateLimits limits) {
        ObjectMapper mapper = Json.mapper();
        Routes r = new Routes(service, database, metrics, mapper, clock, modules, limits);
        Javalin app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.useVirtualThreads = false;
            config.jsonMapper(new JavalinJackson(mapper, false));
            // bodies are bounded by the bytes read (BodyLimit); Javalin's own check sees only Content-Length
            config.http.maxRequestSize = MAX_IMPORT_BODY_BYTES;
            config.jetty.modifyServer(server -> {
                server.setStopTimeout(5_000);
                server.setErrorHandler(new JsonErrorHandler());
            });
            config.jetty.modifyServletContextHandler(handler -> {
                handler.setErrorHandler(new JsonErrorHandler());
                handler.addFilter(new FilterHolder(new BodyLimit()), "/*", EnumSet.of(DispatcherType.REQUEST));
            });
            // Sized for the connection pool, not Jetty's 250: a handler that reads the database
            // holds a connection, so more threads than connections only queue on the pool while
            // competing for the cores; 16 more for the acceptor, selectors and reserved threads and
            // for routes that do not read the database (health, metrics, cached plans).
            QueuedThreadPool threads = new QueuedThreadPool(database.poolSize() + 16, 8, 60_000);
            threads.setName("billing-api-http");
            config.jetty.threadPool = threads;
            config.requestLogger.http((ctx, ms) -> metrics.request(route(ctx), ctx.method().name(),
                    ctx.statusCode(), ms / 1000.0));
            modules.forEach(m -> m.configure(config));
        });
        r.register(app);
        return app;
    }

    private static String route(Context ctx) {
        try {
            String p = ctx.endpointHandlerPath();
            return p == null || p.isEmpty() || p.equals("*") ? "unmatched" : p;
        } catch (RuntimeException e) {
            return "unmatched";
        }
    }

    private void register(Javalin app) {
        app.get("/health", ctx -> writeJson(ctx, HEALTH));
        app.get("/ready", this::ready);
        app.get("/metrics", ctx -> ctx.contentType(ApiMetrics.contentType()).result(metrics.scrape()));

        app.get("/api/v1/usage/{orgId}/check/{feature}", this::check);
        app.get("/api/v1/usage/{orgId}/limits", this::limits);
        app.get("/api/v1/plans", this::getPlans);
        app.put("/api/v1/plans", this::putPlans);
        app.get("/api/v1/orgs/{orgId}/subscription", this::getSubscription);
        app.put("/api/v1/orgs/{orgId}/subscription", this::putSubscription);
        app.post("/api/v1/orgs/{orgId}/credits", this::postCredits);
        app.get("/api/v1/orgs/{orgId}/balance", this::balance);
        app.post("/api/v1/api-keys", this::postApiKey);
        app.delete("/api/v1/api-keys/{id}", this::deleteApiKey);
        app.get("/api/v1/me", this::me);
        modules.forEach(m -> m.register(app, auth));

        // a URI that is not UTF-8 is refused, never decoded with replacement characters
        app.before(Requests::strictUri);
        // authentication before any validation of the input: a request without a valid key learns nothing
        app.beforeMatched("/api/*", ctx -> auth.authenticate(ctx));
        new Idempotency(new IdempotencyRepository(database.dsl()), auth, mapper, clock).register(app);
        app.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.code(), e.field(), e.getMessage(), null));
        app.exception(CatalogValidationException.class, (e, ctx) -> error(ctx, 400, "INVALID_CATALOG",
                e.problems().get(0).split(":", 2)[0], String.join("; ", e.problems()), e.problems()));
        app.exception(HttpResponseException.class, (e, ctx) -> {
            switch (e.getStatus()) {
                case 404 -> error(ctx, 404, "NOT_FOUND", null, "no route " + ctx.method() + " " + ctx.path(), null);
                case 405 -> error(ctx, 405, "METHOD_NOT_ALLOWED", null, ctx.method() + " is not allowed on " + ctx.path(), null);
                case 413 -> error(ctx, 413, "PAYLOAD_TOO_LARGE", null, "the body is larger than "
                        + BodyLimit.boundFor(ctx.path()) + " bytes", null);
                default -> error(ctx, e.getStatus(), "HTTP_" + e.getStatus(), null, e.getMessage(), null);
            }
        });
        app.exception(DataAccessException.class, (e, ctx) -> {
            // class 22 (data exception: out of range, bad encoding, NUL) is the input's fault, not an outage
            String state = e.sqlState();
            if (state != null && state.startsWith("22")) {
                log.info("data refused by the database on {} {}: {}", ctx.method(), ctx.path(), state);
                error(ctx, 400, "INVALID_REQUEST", null, "a value is out of the range the database accepts (SQLState "
                        + state + ")", null);
                return;
            }
            log.warn("database failure on {} {}: {}", ctx.method(), ctx.path(), e.toString());
            error(ctx, 503, "UNAVAILABLE", null, "the database is unavailable; retry shortly", null);
        });
        app.exception(Exception.class, (e, ctx) -> {
            log.error("unexpected failure on {} {}", ctx.method(), ctx.path(), e);
            error(ctx, 500, "INTERNAL", null, "unexpected error", null);
        });
        app.error(404, ctx -> {
            if (ctx.attribute(ERROR_RENDERED) == null) {
                error(ctx, 404, "NOT_FOUND", null, "no route " + ctx.method() + " " + ctx.path(), null);
            }
        });
    }

    private void error(Context ctx, int status, String code, String field, String message, List<String> problems) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("code", code);
        err.put("message", message);
        if (field != null) {
            err.put("field", field);
        }
        if (problems != null) {
            err.put("problems", problems);
        }
        ctx.attribute(ERROR_RENDERED, Boolean.TRUE);
        ctx.status(status).json(Map.of("error", err));
    }

    // ---- ops

    /**
     * Ready when the database answers and usage is fresh; else 503 with {@code stalled} (the stage:
     * {@code database}, {@code streams} or {@code sink}) and {@code reason}. While the breaker is
     * open the database is reported down without waiting for it.
     */
    private void ready(Context ctx) {
        boolean db = !service.breaker().isOpen() && database.isReachable();
        Freshness f = service.freshness(clock.instant());
        if (!db && !f.stale()) {
            f = f.databaseDown();
        }
        boolean ready = db && !f.stale();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", ready ? "ready" : "not_ready");
        body.put("database", db ? "up" : "down");
        body.put("usageAsOf", f.usageAsOf());
        body.put("stale", f.stale());
        body.put("stalled", db ? (f.stalled() == null ? null : f.stalled().wireName()) : "database");
        body.put("reason", ready ? null : db ? f.reason() : "the database is unavailable");
        body.put("catalogVersion", service.catalog().version());
        metrics.usageAge(f.usageAsOf() == null ? -1 : Duration.between(f.usageAsOf(), clock.instant()).toMillis() / 1000.0);
        ctx.status(ready ? 200 : 503).json(body);
    }

    // ---- usage

    private void check(Context ctx) throws java.io.IOException {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.CHECK);
        String feature = ctx.pathParam("feature");
        if (!CatalogParser.FEATURE_CODE.matcher(feature).matches()) {
            throw ApiException.badRequest("feature", "'" + feature + "' is not a feature code "
                    + CatalogParser.FEATURE_CODE.pattern());
        }
        CheckRequest request = new CheckRequest(org, feature,
                Requests.longParam(ctx, "quantity", 1, MAX_COUNT),
                Requests.longParam(ctx, "tokens", 0, MAX_COUNT),
                Requests.decimalParam(ctx, "costUsd"),
                Requests.optionalText(ctx, "userId"),
                Requests.optionalText(ctx, "conversationId"));
        CheckResult result = service.check(request);
        String[] rateLimit = RateLimitHeaders.of(result, clock.instant());
        if (rateLimit != null) {
            ctx.header(RateLimitHeaders.POLICY, rateLimit[0]);
            ctx.header(RateLimitHeaders.RATE_LIMIT, rateLimit[1]);
        }
        writeJson(ctx, Bodies.check(result));
    }

    private static final Map<String, String> HEALTH = Map.of("status", "ok");

    /**
     * The hot routes' JSON, written straight to the response with its length: the same bytes as
     * {@code ctx.json}, without Javalin copying the result through a fresh 32 KiB buffer per
     * request (most of a check's garbage). Small bodies, so no compression is lost.
     */
    private void writeJson(Context ctx, Object body) throws java.io.IOException {
        byte[] bytes = mapper.writeValueAsBytes(body);
        ctx.contentType("application/json");
        ctx.res().setContentLength(bytes.length);
        ctx.res().getOutputStream().write(bytes);
    }

    private void limits(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.READ);
        ctx.json(Bodies.limits(service.limits(org, Requests.optionalText(ctx, "userId"))));
    }

    // ---- plans

    private void getPlans(Context ctx) {
        auth.requireAny(ctx, Scope.READ);
        AccountCache.CatalogState state = service.catalog();
        if (state.stored() == null) {
            throw ApiException.notFound("no plan catalog has been stored yet: PUT /api/v1/plans");
        }
        String accept = ctx.header("Accept");
        if (accept != null && accept.contains("yaml") || "source".equals(ctx.queryParam("format"))) {
            ctx.contentType(state.stored().format() == CatalogParser.Format.JSON ? "application/json" : "application/yaml")
                    .result(state.stored().source());
            return;
        }
        ctx.json(Bodies.catalog(state.version(), state.stored().createdAt(), state.catalog()));
    }

    private void putPlans(Context ctx) {
        Principal p = auth.requireAdmin(ctx);
        String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase();
        CatalogParser.Format format = contentType.contains("json") ? CatalogParser.Format.JSON : CatalogParser.Format.YAML;
        String source = ctx.body();
        String dryRun = ctx.queryParam("dryRun");
        if (dryRun != null && !dryRun.equals("true") && !dryRun.equals("false")) {
            throw ApiException.badRequest("dryRun", "expected true or false, got '" + dryRun + "'");
        }
        if ("true".equals(dryRun)) {
            var catalog = CatalogParser.parse(source, format);
            var impact = service.impact(catalog);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("valid", true);
            out.put("defaultPlan", catalog.defaultPlanId());
            out.put("plans", catalog.plans().stream().map(Plan::id).toList());
            out.put("unchanged", catalog.equals(service.catalog().catalog()));
            out.put("orgs", impact.after().orgs());
            out.put("blockedNow", impact.after().blocked().size());
            out.put("blockedNowBefore", impact.before().blocked().size());
            out.put("newlyBlocked", impact.newlyBlocked().stream().limit(100).toList());
            ctx.json(out);
            return;
        }
        long version = service.putCatalog(source, format, auth.actor(p));
        AccountCache.CatalogState state = service.catalog();
        ctx.json(Bodies.catalog(version, state.stored() == null ? clock.instant() : state.stored().createdAt(),
                state.catalog()));
    }

    // ---- subscriptions

    private static final Set<String> SUBSCRIPTION_FIELDS = Set.of("orgId", "planId", "status", "periodStart",
            "periodEnd", "seats", "overrides", "enforcement");

    private void getSubscription(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.READ);
        Subscription s = service.subscription(org).orElseThrow(() -> ApiException.notFound(
                "org has no subscription; it is on the default plan '" + service.catalog().catalog().defaultPlanId() + "'"));
        ctx.json(Bodies.subscription(s, service.catalog().catalog().plan(s.planId()).orElse(null)));
    }

    private void putSubscription(Context ctx) {
        String org = Requests.orgId(ctx);
        Principal p = auth.requireAdmin(ctx);
        JsonNode body = Requests.jsonObject(ctx, mapper);
        Requests.onlyFields(body, SUBSCRIPTION_FIELDS);
        String bodyOrg = Requests.text(body, "orgId", false);
        if (bodyOrg != null && !bodyOrg.equals(org)) {
            throw ApiException.badRequest("orgId", "does not match the org in the path");
        }
        String planId = Requests.text(body, "planId", true);
        Plan plan = service.catalog().catalog().plan(planId)
                .orElseThrow(() -> ApiException.badRequest("planId", "unknown plan '" + planId + "'"));
        String statusText = Requests.text(body, "status", false);
        SubscriptionStatus status = statusText == null ? SubscriptionStatus.ACTIVE
                : SubscriptionStatus.fromWireName(statusText).orElseThrow(() -> ApiException.badRequest("status",
                "unknown status '" + statusText + "' (expected active, trialing, suspended, expired or canceled)"));
        Subscription existing = service.subscription(org).orElse(null);
        Instant start = Requests.instant(body, "periodStart");
        Instant end = Requests.instant(body, "periodEnd");
        if (start == null) {
            start = existing != null ? existing.periodStart() : clock.instant().truncatedTo(ChronoUnit.DAYS);
        }
        if (end == null) {
            end = existing != null && body.get("periodStart") == null ? existing.periodEnd()
                    : start.atOffset(ZoneOffset.UTC).plusMonths(1).toInstant();
        }
        if (!end.isAfter(start)) {
            throw ApiException.badRequest("periodEnd", "must be after periodStart");
        }
        int seats = 1;
        JsonNode seatsNode = body.get("seats");
        if (seatsNode != null && !seatsNode.isNull()) {
            if (!seatsNode.canConvertToInt() || !seatsNode.isIntegralNumber() || seatsNode.intValue() < 1
                    || seatsNode.intValue() > 1_000_000) {
                throw ApiException.badRequest("seats", "expected a whole number from 1 to 1000000");
            }
            seats = seatsNode.intValue();
        }
        Map<String, BigDecimal> overrides = new LinkedHashMap<>();
        JsonNode ov = body.get("overrides");
        if (ov != null && !ov.isNull()) {
            if (!ov.isObject()) {
                throw ApiException.badRequest("overrides", "expected an object {limitId: max}");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = ov.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String field = "overrides." + e.getKey();
                PlanLimit limit = plan.limit(e.getKey()).orElseThrow(() -> ApiException.badRequest(field,
                        "plan " + plan.id() + " has no limit '" + e.getKey() + "'"));
                BigDecimal max = Requests.decimal(field, e.getValue(), false);
                if (!limit.meter().isMoney() && max.stripTrailingZeros().scale() > 0) {
                    throw ApiException.badRequest(field, limit.meter().wireName() + " needs a whole number");
                }
                overrides.put(e.getKey(), max);
            }
        }
        String enforcementText = Requests.text(body, "enforcement", false);
        EnforcementMode enforcement = enforcementText == null ? null : EnforcementMode.fromWireName(enforcementText)
                .orElseThrow(() -> ApiException.badRequest("enforcement",
                        "unknown mode '" + enforcementText + "' (expected off, shadow or enforce)"));
        SubscriptionRepository.Saved saved = service.putSubscription(new Subscription(org, planId, status, start, end,
                seats, overrides, enforcement, clock.instant()), auth.actor(p));
        ctx.status(saved.created() ? 201 : 200).json(Bodies.subscription(saved.subscription(), plan));
    }

    // ---- credits

    private static final Set<String> CREDIT_FIELDS = Set.of("amountUsd", "reason", "expiresAt");

    private void postCredits(Context ctx) {
        String org = Requests.orgId(ctx);
        Principal p = auth.requireAdmin(ctx);
        JsonNode body = Requests.jsonObject(ctx, mapper);
        Requests.onlyFields(body, CREDIT_FIELDS);
        JsonNode amountNode = body.get("amountUsd");
        if (amountNode == null || amountNode.isNull()) {
            throw ApiException.badRequest("amountUsd", "required");
        }
        BigDecimal amount = Requests.decimal("amountUsd", amountNode, true);
        String reason = Requests.text(body, "reason", false);
        if (reason != null && reason.length() > 500) {
            throw ApiException.badRequest("reason", "must be at most 500 characters");
        }
        Instant expiresAt = Requests.instant(body, "expiresAt");
        if (expiresAt != null && !expiresAt.isAfter(clock.instant())) {
            throw ApiException.badRequest("expiresAt", "must be in the future");
        }
        ctx.status(201).json(Bodies.grant(service.grant(org, amount, reason == null ? "credit grant" : reason, expiresAt,
                auth.actor(p))));
    }

    private void balance(Context ctx) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.READ);
        ctx.json(Bodies.balance(service.balance(org)));
    }

    // ---- api keys

    private void postApiKey(Context ctx) {
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
        Instant expiresAt = ApiKeyRoutes.expiresAt(body, clock.instant());
        BillingService.CreatedKey k = service.createKey(org, scopes, expiresAt, auth.actor(p));
        ctx.status(201).json(Bodies.key(k.id(), k.key(), k.orgId(), k.scopes(), expiresAt));
    }

    /** Who the key is (the dashboard's sign-in): never the key itself. */
    private void me(Context ctx) {
        Principal p = auth.authenticate(ctx);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("keyId", p.keyId());
        body.put("orgId", p.orgId());
        body.put("scopes", p.scopes().stream().map(Scope::wireName).sorted().toList());
        ctx.json(body);
    }

    private void deleteApiKey(Context ctx) {
        Principal p = auth.requireAdmin(ctx);
        if (!service.revokeKey(ctx.pathParam("id"), auth.actor(p))) {
            throw ApiException.notFound("no active API key with id '" + ctx.pathParam("id") + "'");
        }
        ctx.status(204);
    }
}
