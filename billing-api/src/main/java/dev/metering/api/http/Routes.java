package dev.metering.api.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.account.BillingService;
import dev.metering.api.check.Freshness;
import dev.metering.api.metrics.ApiMetrics;
import dev.metering.api.ratelimit.RateLimits;
import dev.metering.api.store.Database;
import dev.metering.api.store.IdempotencyRepository;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson;
import jakarta.servlet.DispatcherType;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.servlet.FilterHolder;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The server and what every route shares: body limits, strict URIs, authentication, idempotency
 * keys, error rendering, metrics, and the ops routes ({@code /health}, {@code /ready},
 * {@code /metrics}). Each feature's routes are a {@link RouteModule} in the feature's package;
 * production, tests and the benchmarks all build the server through {@code BillingApi}.
 */
public final class Routes {

    static final long MAX_BODY_BYTES = 1_048_576;
    /** Bulk imports ({@code POST .../import}) read their body themselves, up to this bound. */
    public static final long MAX_IMPORT_BODY_BYTES = 32L * 1_048_576;
    private static final Map<String, String> HEALTH = Map.of("status", "ok");

    private Routes() {
    }

    /** The configured, not yet started server with the routes of {@code modules}, in their order. */
    public static Javalin create(BillingService service, Database database, ApiMetrics metrics, Clock clock,
                                 List<RouteModule> modules, RateLimits limits) {
        ObjectMapper mapper = Json.mapper();
        Auth auth = new Auth(service.cache().keys(), limits, clock);
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
        app.get("/health", ctx -> Json.write(ctx, mapper, HEALTH));
        app.get("/ready", ctx -> ready(ctx, service, database, metrics, clock));
        app.get("/metrics", ctx -> ctx.contentType(ApiMetrics.contentType()).result(metrics.scrape()));
        modules.forEach(m -> m.register(app, auth));

        // a URI that is not UTF-8 is refused, never decoded with replacement characters
        app.before(Requests::strictUri);
        // authentication before any validation of the input: a request without a valid key learns nothing
        app.beforeMatched("/api/*", ctx -> auth.authenticate(ctx));
        new Idempotency(new IdempotencyRepository(database.dsl()), auth, mapper, clock).register(app);
        ErrorResponses.register(app);
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

    /**
     * Ready when the database answers and usage is fresh; else 503 with {@code stalled} (the stage:
     * {@code database}, {@code streams} or {@code sink}) and {@code reason}. While the breaker is
     * open the database is reported down without waiting for it.
     */
    private static void ready(Context ctx, BillingService service, Database database, ApiMetrics metrics, Clock clock) {
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
}
