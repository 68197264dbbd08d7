package dev.metering.api.bench;

import dev.metering.api.BillingApi;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import dev.metering.db.Migrations;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

/**
 * Check latency at fixed request rates (open loop), next to a no-op route ({@code /health}) on
 * the same server in the same run. Not a test: prints a table.
 *
 * <p>Data: {@code bench.orgs} orgs (default 10,000), each with a month (30 days) of hourly and
 * daily org-grain rows for CHAT_MESSAGE and AI_COMPLETION; half of them with a subscription
 * (own billing period), half on the default plan. Plan: seed 000's (daily messages + billing
 * period tokens). Each check picks a random org.
 *
 * <p>Open loop: request i is due at start + i/rate and its latency is measured from that due
 * time, so a slow server cannot hide queueing (no coordinated omission).
 *
 * <pre>
 * mvn -B -ntp -pl billing-api test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp billing-api/target/test-classes:billing-api/target/classes:$(cat billing-api/target/cp.txt) \
 *      dev.metering.api.bench.CheckBenchmark [rates=500,1000,2000,5000] [seconds=10]
 * </pre>
 * With METERING_DB_URL/USER/PASSWORD set it uses that PostgreSQL instead of a devstack one.
 */
public final class CheckBenchmark {

    private static final String ADMIN = "bench-admin-token-0123456789";
    private static final int MAX_IN_FLIGHT = 2_000;
    private static final long TIMEOUT_NANOS = 30_000_000_000L;

    public static void main(String[] args) throws Exception {
        int[] rates = {500, 1000, 2000, 5000};
        int seconds = 10;
        int orgs = Integer.getInteger("bench.orgs", 10_000);
        for (String a : args) {
            if (a.startsWith("rates=")) {
                rates = Arrays.stream(a.substring(6).split(",")).mapToInt(Integer::parseInt).toArray();
            } else if (a.startsWith("seconds=")) {
                seconds = Integer.parseInt(a.substring(8));
            }
        }
        String url = System.getenv("METERING_DB_URL");
        String user = System.getenv("METERING_DB_USER");
        String password = System.getenv("METERING_DB_PASSWORD");
        PostgresServer own = null;
        if (url == null) {
            String pgdata = System.getProperty("bench.pgdata");
            PostgresServer pg = pgdata == null ? TestInfra.postgres()
                    : (own = PostgresServer.start(PostgresServer.Options.defaults().withDataDir(Path.of(pgdata))
                            .withDatabase("billing_bench")));
            url = pgdata == null ? pg.createDatabase("billing_bench") : pg.jdbcUrl();
            user = pg.user();
            password = pg.password();
        }
        Migrations.migrate(url, user, password);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        DSLContext db = DSL.using(url, user, password);
        // seeding 10,000 orgs takes minutes; with -Dbench.pgdata the data is kept for the next run
        if (Boolean.getBoolean("bench.reseed") || db.fetchCount(DSL.table("metering.plan_catalogs")) == 0) {
            long t = System.nanoTime();
            seed(db, orgs, now);
            System.out.printf(Locale.ROOT, "seeded %d orgs x 30 days of hourly+daily rows in %.1f s%n", orgs,
                    (System.nanoTime() - t) / 1e9);
        }
        System.out.printf(Locale.ROOT, "org_usage_hourly rows: %d, org_usage_daily rows: %d%n",
                db.fetchCount(DSL.table("metering.org_usage_hourly")), db.fetchCount(DSL.table("metering.org_usage_daily")));

        BillingApiConfig config = new BillingApiConfig(0, url, user, password, ADMIN, EnforcementMode.ENFORCE, 0,
                Duration.ofDays(3650), StalePolicy.FAIL_OPEN, 16);
        try (BillingApi api = BillingApi.start(config, Clock.systemUTC())) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String base = "http://127.0.0.1:" + api.port();
            System.out.println("warming up ...");
            // every org once (fills the subscription cache as a long-running server's would be), then both routes
            run(client, base, true, orgs, 1000, Math.max(1, orgs / 1000), true);
            run(client, base, true, orgs, 500, 3, false);
            run(client, base, false, orgs, 500, 3, false);
            System.out.println();
            System.out.println("route       rate/s  sent    errors  p50 ms   p99 ms   p99.9 ms  max ms   load1"
                    + "  server<=1ms <=2ms <=5ms");
            for (int rate : rates) {
                for (boolean check : new boolean[] {false, true}) {
                    String route = check ? "/api/v1/usage/{orgId}/check/{feature}" : "/health";
                    double[] before = serverBuckets(client, base, route);
                    Result r = run(client, base, check, orgs, rate, seconds, false);
                    double[] after = serverBuckets(client, base, route);
                    print(check ? "check" : "noop", rate, r, before, after);
                }
            }
        } finally {
            if (own != null) {
                own.close();
            }
        }
        System.exit(0);
    }

    private record Result(long[] latenciesNanos, int errors) {
    }

    private static Result run(HttpClient client, String base, boolean check, int orgs, int rate, int seconds,
                              boolean everyOrg) throws InterruptedException {
        int total = rate * seconds;
        long[] latencies = new long[total];
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger inFlight = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(total);
        SplittableRandom random = new SplittableRandom(42);
        long interval = 1_000_000_000L / rate;
        long start = System.nanoTime() + 50_000_000L;
        for (int i = 0; i < total; i++) {
            long due = start + i * interval;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                if (wait > 200_000) {
                    LockSupport.parkNanos(wait - 100_000);
                } else {
                    Thread.onSpinWait();
                }
            }
            String path = check
                    ? "/api/v1/usage/org-" + (everyOrg ? i % orgs : random.nextInt(orgs)) + "/check/CHAT_MESSAGE?tokens=100"
                    : "/health";
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + path))
                    .header("Authorization", "Bearer " + ADMIN).timeout(Duration.ofSeconds(30)).GET().build();
            int index = i;
            if (inFlight.get() >= MAX_IN_FLIGHT) {
                // overloaded: count as an error with the request timeout as its latency instead of
                // queueing without bound (the generator would run out of memory)
                latencies[index] = TIMEOUT_NANOS;
                errors.incrementAndGet();
                done.countDown();
                continue;
            }
            inFlight.incrementAndGet();
            client.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
                inFlight.decrementAndGet();
                latencies[index] = System.nanoTime() - due;
                if (e != null || r.statusCode() != 200) {
                    errors.incrementAndGet();
                }
                done.countDown();
            });
        }
        if (!done.await(120, TimeUnit.SECONDS)) {
            System.out.println("  (some requests did not finish within 120 s)");
        }
        return new Result(latencies, errors.get());
    }

    private static void print(String route, int rate, Result r, double[] before, double[] after) {
        long[] l = r.latenciesNanos().clone();
        Arrays.sort(l);
        double n = after[3] - before[3];
        System.out.printf(Locale.ROOT, "%-10s  %6d  %6d  %6d  %7.2f  %7.2f  %8.2f  %7.2f  %-5s  %9.1f%% %5.1f%% %5.1f%%%n",
                route, rate, l.length, r.errors(), pct(l, 0.50), pct(l, 0.99), pct(l, 0.999), l[l.length - 1] / 1e6,
                loadAverage(), 100 * (after[0] - before[0]) / n, 100 * (after[1] - before[1]) / n,
                100 * (after[2] - before[2]) / n);
    }

    /** Server-side latency histogram of a route from /metrics: cumulative counts at 1 ms, 2 ms, 5 ms and all. */
    private static double[] serverBuckets(HttpClient client, String base, String route) {
        double[] out = new double[4];
        try {
            String body = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            String[] le = {"0.001", "0.002", "0.005", "+Inf"};
            for (String line : body.split("\n")) {
                if (!line.startsWith("metering_api_request_duration_seconds_bucket{") || !line.contains("route=\"" + route + "\"")) {
                    continue;
                }
                for (int i = 0; i < le.length; i++) {
                    if (line.contains("le=\"" + le[i] + "\"")) {
                        out[i] = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    /** The machine's 1-minute load average (other processes compete for the same cores). */
    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException | RuntimeException e) {
            return "?";
        }
    }

    private static double pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    /** 30 days of hourly and daily org-grain rows per org and feature, written in bulk by SQL. */
    private static void seed(DSLContext db, int orgs, Instant now) {
        Instant hourEnd = now.truncatedTo(ChronoUnit.HOURS);
        Instant from = hourEnd.minus(Duration.ofDays(30));
        db.execute("TRUNCATE metering.org_usage_hourly, metering.org_usage_daily, metering.subscriptions, "
                + "metering.subscription_overrides, metering.credit_grants, metering.plan_catalogs, metering.plans, "
                + "metering.plan_limits, metering.sink_progress");
        for (String feature : new String[] {"CHAT_MESSAGE", "AI_COMPLETION"}) {
            db.execute("INSERT INTO metering.org_usage_hourly SELECT 'org-' || o, ?, h, 3, 3, 3000, 1500, 0, 0, 0.004500000, "
                    + "h, h + interval '59 minutes', now(), 1 FROM generate_series(0, ? - 1) o, "
                    + "generate_series(?::timestamptz, ?::timestamptz, interval '1 hour') h",
                    feature, orgs, java.time.OffsetDateTime.ofInstant(from, java.time.ZoneOffset.UTC),
                    java.time.OffsetDateTime.ofInstant(hourEnd, java.time.ZoneOffset.UTC));
            db.execute("INSERT INTO metering.org_usage_daily SELECT 'org-' || o, ?, d, 72, 72, 72000, 36000, 0, 0, 0.108000000, "
                    + "d, d + interval '23 hours', now(), 1 FROM generate_series(0, ? - 1) o, "
                    + "generate_series(?::timestamptz, ?::timestamptz, interval '1 day') d",
                    feature, orgs, java.time.OffsetDateTime.ofInstant(from.truncatedTo(ChronoUnit.DAYS), java.time.ZoneOffset.UTC),
                    java.time.OffsetDateTime.ofInstant(hourEnd.truncatedTo(ChronoUnit.DAYS), java.time.ZoneOffset.UTC));
        }
        db.execute("INSERT INTO metering.subscriptions SELECT 'org-' || o, 'PRO', 'active', "
                + "date_trunc('day', now()) - interval '10 days', date_trunc('day', now()) + interval '20 days', 1, NULL, "
                + "now(), now(), nextval('metering.billing_revision') FROM generate_series(0, ? - 1, 2) o", orgs);
        db.execute("INSERT INTO metering.sink_progress VALUES ('metering.usage.aggregates', 0, 1, now(), now())");
        db.execute("ANALYZE metering.org_usage_hourly");
        db.execute("ANALYZE metering.org_usage_daily");
        String catalog = """
                defaultPlan: TRIAL
                plans:
                  - id: TRIAL
                    limits:
                      - { id: daily-messages, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 200 }
                      - { id: monthly-tokens, meter: tokens, window: billing_period, max: 100000000 }
                  - id: PRO
                    limits:
                      - { id: daily-messages, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 5000 }
                      - { id: monthly-tokens, meter: tokens, window: billing_period, max: 500000000 }
                """;
        db.execute("INSERT INTO metering.plan_catalogs VALUES (1, 'yaml', ?, 'TRIAL', now(), 'bench')", catalog);
    }
}
