package dev.metering.api;

import dev.metering.api.account.AccountCache;
import dev.metering.api.alert.Alerting;
import dev.metering.api.audit.AuditLog;
import dev.metering.api.audit.AuditRoutes;
import dev.metering.api.auth.ApiKeyCache;
import dev.metering.api.auth.ApiKeyRoutes;
import dev.metering.api.account.BillingService;
import dev.metering.api.account.CheckOutcomes;
import dev.metering.api.check.CheckEvaluator;
import dev.metering.api.check.CheckRoutes;
import dev.metering.api.enforcement.EnforcementRepository;
import dev.metering.api.enforcement.EnforcementRoutes;
import dev.metering.api.enforcement.RuntimeEnforcement;
import dev.metering.api.ratelimit.RateLimits;
import dev.metering.api.reservation.ReservationRepository;
import dev.metering.api.reservation.ReservationRoutes;
import dev.metering.api.reservation.ReservationService;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.metrics.ApiMetrics;
import dev.metering.api.http.Routes;
import dev.metering.api.store.ApiKeyRepository;
import dev.metering.api.store.ChangeRepository;
import dev.metering.api.store.CheckOutcomeRepository;
import dev.metering.api.store.CreditRepository;
import dev.metering.api.store.Database;
import dev.metering.api.store.IdempotencyRepository;
import dev.metering.api.store.DatabaseBreaker;
import dev.metering.api.usage.LastKnownUsage;
import dev.metering.api.store.PlanRepository;
import dev.metering.api.store.SubscriptionRepository;
import dev.metering.api.subscription.SubscriptionImportRoutes;
import dev.metering.api.subscription.SubscriptionListRoutes;
import dev.metering.api.subscription.SubscriptionRoutes;
import dev.metering.api.store.UsageRepository;
import dev.metering.api.deadletter.DeadLetterRepository;
import dev.metering.api.deadletter.DeadLetterRoutes;
import dev.metering.api.credit.CreditImportRoutes;
import dev.metering.api.credit.CreditListRoutes;
import dev.metering.api.credit.CreditRoutes;
import dev.metering.api.alert.AlertListRoutes;
import dev.metering.api.alert.AlertPayloads;
import dev.metering.api.alert.AlertRepository;
import dev.metering.api.event.EventLogRepository;
import dev.metering.api.event.EventRoutes;
import dev.metering.api.http.Json;
import dev.metering.api.ingest.IngestRoutes;
import dev.metering.api.ingest.IngestService;
import dev.metering.api.kafka.KafkaClients;
import dev.metering.api.openapi.OpenApiRoutes;
import dev.metering.api.plan.PlanRoutes;
import dev.metering.api.price.CostEstimator;
import dev.metering.api.price.PriceRepository;
import dev.metering.api.price.PriceRoutes;
import dev.metering.api.price.PriceService;
import dev.metering.api.report.ReportRepository;
import dev.metering.api.report.ReportRoutes;
import dev.metering.api.ui.DashboardRoutes;
import dev.metering.db.Migrations;
import io.javalin.Javalin;
import io.javalin.http.HandlerType;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running billing API: {@code BillingApi.start(config, clock)} migrates the database, loads the
 * catalog, starts the cache refresher and the HTTP server; {@link #close()} stops accepting
 * requests, lets in-flight ones finish (up to 5 s), flushes check counters and closes the pool.
 */
public final class BillingApi implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BillingApi.class);
    /** Orgs whose last usage read is kept for checks while the database is away. */
    private static final int LAST_KNOWN_ORGS = 50_000;

    private final Javalin app;
    private final Database database;
    private final ScheduledExecutorService scheduler;
    private final CheckOutcomes outcomes;
    private final ApiKeyCache keys;
    private final BillingService service;
    private final KafkaClients kafka;
    private final Alerting alerting;
    private final AtomicBoolean closed = new AtomicBoolean();

    private BillingApi(Javalin app, Database database, ScheduledExecutorService scheduler, CheckOutcomes outcomes,
                       ApiKeyCache keys, BillingService service, KafkaClients kafka, Alerting alerting) {
        this.keys = keys;
        this.app = app;
        this.alerting = alerting;
        this.kafka = kafka;
        this.database = database;
        this.scheduler = scheduler;
        this.outcomes = outcomes;
        this.service = service;
    }

    public static BillingApi start(BillingApiConfig config, Clock clock) {
        Database db = Database.open(config);
        ScheduledExecutorService scheduler = null;
        Alerting alerting = null;
        KafkaClients kafka = config.kafka() == null ? null : new KafkaClients(config.kafka(), clock);
        try {
            Migrations.migrate(db.dataSource());
            var dsl = db.dsl();
            ApiMetrics metrics = new ApiMetrics(clock);
            DatabaseBreaker breaker = new DatabaseBreaker();
            ApiKeyCache keys = new ApiKeyCache(new ApiKeyRepository(dsl), clock, config.adminToken(), breaker::isOpen,
                    metrics.registry());
            AccountCache cache = new AccountCache(new PlanRepository(dsl), new SubscriptionRepository(dsl),
                    new CreditRepository(dsl), keys, new ChangeRepository(dsl, config.topics().aggregates()), clock);
            cache.refresh();
            CheckOutcomes outcomes = new CheckOutcomes(new CheckOutcomeRepository(dsl));
            // the environment's mode and canary are only the initial value; the stored one wins
            RuntimeEnforcement enforcement = new RuntimeEnforcement(new EnforcementRepository(dsl), clock,
                    config.enforcement(), config.canaryPercent());
            BillingService service = new BillingService(cache,
                    new CheckEvaluator(enforcement, config.stalePolicy()),
                    new LastKnownUsage(new UsageRepository(dsl), LAST_KNOWN_ORGS), breaker, new PlanRepository(dsl),
                    new SubscriptionRepository(dsl),
                    new CreditRepository(dsl), new ApiKeyRepository(dsl), outcomes, metrics, config.maxStaleness(), clock);
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "billing-api-refresh");
                t.setDaemon(true);
                return t;
            });
            // the refresh is also what closes the breaker: checks never probe a database that is away
            scheduler.scheduleWithFixedDelay(() -> guarded("cache refresh", () -> {
                try {
                    cache.refresh();
                    breaker.succeeded();
                } catch (RuntimeException e) {
                    breaker.tripIfUnavailable(e);
                    throw e;
                } finally {
                    service.observeFreshness();
                }
            }), 500, 500, TimeUnit.MILLISECONDS);
            scheduler.scheduleWithFixedDelay(() -> guarded("enforcement refresh", enforcement::refresh), 500, 500,
                    TimeUnit.MILLISECONDS);
            scheduler.scheduleWithFixedDelay(() -> guarded("check outcome flush", outcomes::flush), 5, 5,
                    TimeUnit.SECONDS);
            scheduler.scheduleWithFixedDelay(() -> guarded("key last-use flush", keys::flushLastUsed), 5, 5,
                    TimeUnit.SECONDS);
            // holds count in checks and limits; expired ones are ignored by reads, the clean-up only trims
            ReservationService reservations = new ReservationService(dsl, new ReservationRepository(dsl),
                    new UsageRepository(dsl), service, service.evaluator(), clock, config.reservationLockFreeFactor());
            service.useHolds(reservations::live);
            scheduler.scheduleWithFixedDelay(() -> guarded("reservation clean-up", reservations::cleanUp), 60, 60,
                    TimeUnit.SECONDS);
            // ingest estimates each event's cost from an in-memory price book, never waiting for the database
            CostEstimator costs = new CostEstimator(new PriceRepository(dsl));
            guarded("price book refresh", costs::refresh);
            scheduler.scheduleWithFixedDelay(() -> guarded("price book refresh", costs::refresh), 1, 1, TimeUnit.SECONDS);
            // expired idempotency keys are ignored by reads; this only keeps the table small
            IdempotencyRepository idempotencyKeys = new IdempotencyRepository(dsl);
            scheduler.scheduleWithFixedDelay(() -> guarded("idempotency key clean-up",
                    () -> idempotencyKeys.deleteExpired(clock.instant(), 10_000)), 60, 60, TimeUnit.SECONDS);
            if (kafka != null) {
                kafka.warmUp();
            }
            var mapper = Json.mapper();
            alerting = new Alerting(service, dsl, mapper, metrics.registry(), clock);
            RateLimits limits = new RateLimits(config.rateLimits(), clock, metrics.registry());
            Javalin app = Routes.create(service, db, metrics, clock, List.of(
                    new CheckRoutes(service, mapper, clock),
                    new PlanRoutes(service, clock),
                    new SubscriptionRoutes(service, mapper, clock),
                    new CreditRoutes(service, mapper, clock),
                    new ApiKeyRoutes(service, new ApiKeyRepository(dsl), keys, mapper, clock),
                    new IngestRoutes(kafka == null ? null : new IngestService(kafka, costs), mapper, clock),
                    new PriceRoutes(new PriceService(new PriceRepository(dsl), kafka,
                            () -> guarded("price book refresh", costs::refresh)), mapper),
                    new ReportRoutes(new ReportRepository(dsl), service),
                    new DeadLetterRoutes(new DeadLetterRepository(dsl), kafka),
                    new EventRoutes(new EventLogRepository(dsl), config.eventLog()),
                    new SubscriptionListRoutes(new SubscriptionRepository(dsl), service),
                    new SubscriptionImportRoutes(service, mapper, clock),
                    new CreditImportRoutes(service, mapper, clock),
                    new CreditListRoutes(new CreditRepository(dsl), clock),
                    new AlertListRoutes(new AlertRepository(dsl, new AlertPayloads(mapper)), mapper),
                    new EnforcementRoutes(enforcement, mapper),
                    alerting.routes(),
                    new ReservationRoutes(reservations, mapper, clock),
                    new AuditRoutes(new AuditLog(dsl)),
                    new OpenApiRoutes(),
                    new DashboardRoutes()), limits);
            app.start(config.port());
            log.info("billing-api listening on port {} ({})", app.port(), config);
            alerting.start();
            return new BillingApi(app, db, scheduler, outcomes, keys, service, kafka, alerting);
        } catch (RuntimeException e) {
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
            if (alerting != null) {
                alerting.close();
            }
            if (kafka != null) {
                kafka.close();
            }
            db.close();
            throw e;
        }
    }

    private static void guarded(String what, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("{} failed: {}", what, e.toString());
        }
    }

    public int port() {
        return app.port();
    }

    /** For tests and tools in the same process: the service behind the routes. */
    public BillingService service() {
        return service;
    }

    /** For tests and tools in the same process: alert detection and webhook delivery. */
    public Alerting alerting() {
        return alerting;
    }

    /** Every registered route as {@code "METHOD /path"} (what the OpenAPI document must describe). */
    public List<String> routes() {
        return app.unsafeConfig().pvt.internalRouter.allHttpHandlers().stream()
                .map(e -> e.getEndpoint())
                .filter(e -> e.getMethod().isHttpMethod() && e.getMethod() != HandlerType.HEAD)
                .map(e -> e.getMethod().name() + " " + e.getPath())
                .sorted().distinct().toList();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        app.stop();
        scheduler.shutdownNow();
        alerting.close();
        if (kafka != null) {
            kafka.close();
        }
        guarded("final check outcome flush", outcomes::flush);
        guarded("final key last-use flush", keys::flushLastUsed);
        database.close();
    }
}
