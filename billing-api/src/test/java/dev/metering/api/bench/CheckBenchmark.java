package dev.metering.api.bench;

import dev.metering.api.BillingApi;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import dev.metering.db.Migrations;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
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
 * <p>This JVM runs PostgreSQL (a child process), seeds it and runs the server; the load comes
 * from {@link LoadGenerator} in a separate JVM started on the same classpath, open loop: request
 * i is due at start + i/rate and its latency is measured from that due time, so a slow server
 * cannot hide queueing (no coordinated omission). JVM flags for the server (GC, heap, JFR) are
 * this JVM's command line.
 *
 * <pre>
 * mvn -B -ntp -pl billing-api test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * cd billing-api &amp;&amp; flock /tmp/metering-bench.lock java -Dbench.pgdata=target/bench-pgdata \
 *      -cp target/test-classes:target/classes:$(cat target/cp.txt) \
 *      dev.metering.api.bench.CheckBenchmark [rates=500,1000,2000,5000] [seconds=10] [connections=64]
 *      [routes=noop,check] [explain] [alerts=on|off|alternate] [phase=10] [crossings=200]
 * </pre>
 * {@code explain} prints EXPLAIN (ANALYZE, BUFFERS) of the check's usage statement first.
 * With METERING_DB_URL/USER/PASSWORD set it uses that PostgreSQL instead of a devstack one.
 * {@code crossings=N} writes usage that crosses 80% of a limit for N new orgs a second while the
 * load runs (delivered to a local webhook receiver in its own JVM); {@code alerts=off} stops alert detection and
 * delivery, so the same run with {@code alerts=on} shows what alerts cost the check (keep
 * {@code crossings=N} in both: the crossing usage is the sink's work, written either way).
 * {@code alerts=alternate} compares the two within one run, where runs apart differ by more than
 * alerts do: alerting is paused in every other {@code phase} seconds of the wall clock, and the
 * generator prints the checks due in either kind of phase as rows of their own, leaving out each
 * phase's first {@link LoadGenerator#PHASE_SETTLE_NANOS} (the catch-up of a resumed detector, the
 * tail of a paused one's pass). The resumed detector evaluates the crossings of the paused phase
 * too, so an alerts-on phase does more alert work than a steady run would.
 */
public final class CheckBenchmark {

    private static final String ADMIN = "bench-admin-token-0123456789";

    public static void main(String[] args) throws Exception {
        int[] rates = {500, 1000, 2000, 5000};
        int seconds = 10;
        int connections = 64;
        String routes = "noop,check";
        boolean explain = false;
        String slow = "slow=0";
        boolean alerts = true;
        boolean alternate = false;
        int phaseSeconds = 10;
        int crossings = 0;
        int orgs = Integer.getInteger("bench.orgs", 10_000);
        for (String a : args) {
            if (a.startsWith("rates=")) {
                rates = Arrays.stream(a.substring(6).split(",")).mapToInt(Integer::parseInt).toArray();
            } else if (a.startsWith("seconds=")) {
                seconds = Integer.parseInt(a.substring(8));
            } else if (a.startsWith("connections=")) {
                connections = Integer.parseInt(a.substring(12));
            } else if (a.equals("explain")) {
                explain = true;
            } else if (a.startsWith("routes=")) {
                routes = a.substring(7);
            } else if (a.startsWith("slow=")) {
                slow = a;
            } else if (a.startsWith("alerts=")) {
                alerts = !a.equals("alerts=off");
                alternate = a.equals("alerts=alternate");
            } else if (a.startsWith("phase=")) {
                phaseSeconds = Integer.parseInt(a.substring(6));
            } else if (a.startsWith("crossings=")) {
                crossings = Integer.parseInt(a.substring(10));
            }
        }
        if (alternate && phaseSeconds * 1_000_000_000L <= 2 * LoadGenerator.PHASE_SETTLE_NANOS) {
            throw new IllegalArgumentException("phase=" + phaseSeconds + ": a phase must be longer than twice the "
                    + LoadGenerator.PHASE_SETTLE_NANOS / 1_000_000_000L + " s left out at its start");
        }
        if (alternate && seconds < 2 * phaseSeconds) {
            System.out.printf(Locale.ROOT, "note: seconds=%d is shorter than two phases of %d s: one kind of phase may "
                    + "have no checks%n", seconds, phaseSeconds);
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
        recentDetail(db, orgs, now);
        System.out.printf(Locale.ROOT, "org_usage_hourly rows: %d, org_usage_daily rows: %d, usage_hourly rows: %d%n",
                db.fetchCount(DSL.table("metering.org_usage_hourly")), db.fetchCount(DSL.table("metering.org_usage_daily")),
                db.fetchCount(DSL.table("metering.usage_hourly")));

        // Experiment for metering-db (not a migration): a covering index lets the check's daily
        // range scans be index-only. Dropped again when the property is not set.
        if (Boolean.getBoolean("bench.coveringIndex")) {
            db.execute("CREATE INDEX IF NOT EXISTS bench_org_usage_daily_covering ON metering.org_usage_daily "
                    + "(org_id, window_start) INCLUDE (feature, events, quantity, input_tokens, output_tokens, "
                    + "cached_input_tokens, cost_usd)");
            db.execute("VACUUM (ANALYZE) metering.org_usage_daily");
        } else {
            db.execute("DROP INDEX IF EXISTS metering.bench_org_usage_daily_covering");
        }
        if (explain) {
            explain(db, now);
        }
        BillingApiConfig config = new BillingApiConfig(0, url, user, password, ADMIN, EnforcementMode.ENFORCE, 0,
                Duration.ofDays(3650), StalePolicy.FAIL_OPEN, Integer.getInteger("bench.poolSize", 16));
        AlertLoad.clean(db);
        try (BillingApi api = BillingApi.start(config, Clock.systemUTC());
             AlertLoad alertLoad = new AlertLoad(api, ADMIN, url, user, password, crossings)) {
            if (!alerts) {
                api.alerting().close();
            }
            if (alternate) {
                alternateAlerts(api, phaseSeconds);
            }
            System.out.printf(Locale.ROOT, "alerts %s, %d threshold crossings/s written next to the checks%n",
                    alternate ? "on and off in turns of " + phaseSeconds + " s" : alerts ? "on" : "off", crossings);
            // the load generator runs in its own JVM (same classpath): it must not share this
            // JVM's heap, GC pauses and JIT with the server it measures
            List<String> command = new ArrayList<>(List.of(
                    ProcessHandle.current().info().command().orElse("java"),
                    "-XX:+UseSerialGC", "-Xms256m", "-Xmx256m",
                    "-cp", System.getProperty("java.class.path"),
                    LoadGenerator.class.getName(),
                    "port=" + api.port(), "token=" + ADMIN, "orgs=" + orgs,
                    "rates=" + Arrays.stream(rates).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                    "seconds=" + seconds, "connections=" + connections, "routes=" + routes, slow,
                    "serverPid=" + ProcessHandle.current().pid(), "receiverPid=" + alertLoad.receiverPid(),
                    "phase=" + (alternate ? phaseSeconds : 0)));
            System.out.println("load generator: " + String.join(" ", command.subList(0, 4)) + " ... "
                    + String.join(" ", command.subList(6, command.size())).replace(ADMIN, "<admin>"));
            Process generator = new ProcessBuilder(command).inheritIO().start();
            int exit = generator.waitFor();
            if (exit != 0) {
                System.out.println("load generator exited with " + exit);
            }
        } finally {
            if (own != null) {
                own.close();
            }
        }
        System.exit(0);
    }

    /**
     * Alerting on in the wall clock's even {@code phaseSeconds}-long phases and paused in the odd
     * ones ({@link LoadGenerator#alertsOn}, which splits the checks the same way).
     */
    private static void alternateAlerts(BillingApi api, int phaseSeconds) {
        Thread t = new Thread(() -> {
            while (true) {
                long now = System.currentTimeMillis();
                api.alerting().pause(!LoadGenerator.alertsOn(now, phaseSeconds));
                long next = (now / (phaseSeconds * 1000L) + 1) * phaseSeconds * 1000L;
                try {
                    Thread.sleep(Math.max(1, next - System.currentTimeMillis()));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-alerts-alternate");
        t.setDaemon(true);
        t.start();
    }

    /**
     * EXPLAIN (ANALYZE, BUFFERS) of the usage statement a check of the bench plan runs (the same
     * shape UsageRepository renders): today's daily row of CHAT_MESSAGE and the billing period's
     * daily rows of every feature, for an org on the default plan (calendar month) and one with
     * a subscription (period from 10 days ago).
     */
    private static void explain(DSLContext db, Instant now) {
        java.time.OffsetDateTime day = now.truncatedTo(ChronoUnit.DAYS).atOffset(java.time.ZoneOffset.UTC);
        String usage = "sum(events) as events, sum(quantity) as quantity, sum(input_tokens) as input_tokens, "
                + "sum(output_tokens) as output_tokens, sum(cached_input_tokens) as cached_input_tokens, "
                + "sum(cost_usd) as cost_usd from metering.org_usage_daily where (org_id = '%s' and window_start >= '%s' "
                + "and window_start < '%s'%s)";
        for (String[] org : new String[][] {{"org-1", day.withDayOfMonth(1).toString(), day.withDayOfMonth(1).plusMonths(1).toString()},
                {"org-2", day.minusDays(10).toString(), day.plusDays(20).toString()}}) {
            String sql = "select 0 as seg, " + String.format(Locale.ROOT, usage, org[0], day, day.plusDays(1),
                    " and feature = 'CHAT_MESSAGE'")
                    + " union all select 1 as seg, " + String.format(Locale.ROOT, usage, org[0], org[1], org[2], "");
            System.out.println("EXPLAIN (ANALYZE, BUFFERS) " + sql);
            db.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql).forEach(r -> System.out.println("  " + r.get(0)));
        }
    }

    /**
     * The detail rows behind the org rows of the last three hours (three users per org and
     * feature), as the sink writes them: what the alert detector would have to look through if it
     * scanned recent usage instead of following what changed. Added when missing, at every start.
     */
    private static void recentDetail(DSLContext db, int orgs, Instant now) {
        Instant hour = now.truncatedTo(ChronoUnit.HOURS);
        int added = db.execute("INSERT INTO metering.usage_hourly (org_id, user_id, feature, provider, model, window_start, "
                + "events, quantity, input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd, "
                + "first_event_at, last_event_at, updated_at, version) "
                + "SELECT 'org-' || o, 'user-' || u, f, '', '', h, 1, 1, 1000, 500, 0, 0, 0.001500000, h, h, h, 1 "
                + "FROM generate_series(0, ? - 1) o, generate_series(0, 2) u, unnest(ARRAY['CHAT_MESSAGE', 'AI_COMPLETION']) f, "
                + "generate_series(CAST(? AS timestamptz), CAST(? AS timestamptz), interval '1 hour') h "
                + "ON CONFLICT DO NOTHING", orgs,
                java.time.OffsetDateTime.ofInstant(hour.minus(Duration.ofHours(2)), java.time.ZoneOffset.UTC),
                java.time.OffsetDateTime.ofInstant(hour, java.time.ZoneOffset.UTC));
        if (added > 0) {
            db.execute("ANALYZE metering.usage_hourly");
        }
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
