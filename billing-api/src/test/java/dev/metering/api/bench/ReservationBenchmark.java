package dev.metering.api.bench;

import dev.metering.api.BillingApi;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.store.UsageRepository;
import dev.metering.api.usage.Segments;
import dev.metering.api.usage.UsageSegment;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Reservations under load, through two API instances on one PostgreSQL. Not a test: prints
 * (1) the overshoot bound: rounds of 50 concurrent reservations against a fresh org with room for
 * exactly 10, the allowed count of each round; (2) closed-loop latency and throughput of
 * reserve-then-release for one hot org far from its cap (the shared path), one hot org near its
 * cap (the exclusive path: room for fewer than K reservations) and 10,000 orgs, next to plain
 * checks of an org without and with live holds; (3) where one exclusive reservation's time goes:
 * its statements one after another on one connection. The client threads run in this JVM, beside
 * both servers. {@code factor=} sets K ({@code METERING_RESERVATION_LOCK_FREE_FACTOR}; 0: every
 * reservation locks).
 *
 * <p>{@code openloop}: instead, fixed request rates from {@link LoadGenerator} in its own JVM
 * (raw keep-alive sockets spread over both instances, latency from each request's due time), for
 * each rate every route of {@code routes}: by default a plain check of an org without holds and
 * reservations (1 s holds, never released) of one hot org at its cap (room for 16 at a time,
 * fewer than K: the exclusive path; most are refused), with the allowed and refused counts and
 * the CPU per answer of this JVM (both servers) and of PostgreSQL. {@code reserve:crowded}: an
 * org with room for 2,000, at its cap above 2,000/s with about 2,000 live holds.
 *
 * <pre>
 * mvn -B -ntp -pl billing-api test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * cd billing-api &amp;&amp; flock /tmp/metering-it.lock java -cp target/test-classes:target/classes:$(cat target/cp.txt) \
 *      dev.metering.api.bench.ReservationBenchmark [rounds=20] [seconds=10] [threads=32] [factor=32]
 * cd billing-api &amp;&amp; flock /tmp/metering-it.lock java -cp target/test-classes:target/classes:$(cat target/cp.txt) \
 *      dev.metering.api.bench.ReservationBenchmark openloop [rates=2000,3000,4000,5000] [seconds=10] \
 *      [connections=64] [factor=32] [routes=check:idle,reserve:near]
 * </pre>
 */
public final class ReservationBenchmark {

    private static final String ADMIN = "bench-admin-token-0123456789";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        int rounds = 20;
        int seconds = 10;
        int threads = 32;
        int factor = BillingApiConfig.DEFAULT_LOCK_FREE_FACTOR;
        boolean openLoop = false;
        String rates = "2000,3000,4000,5000";
        int connections = 64;
        String routes = "check:idle,reserve:near";
        for (String a : args) {
            if (a.equals("openloop")) {
                openLoop = true;
            } else if (a.startsWith("rates=")) {
                rates = a.substring(6);
            } else if (a.startsWith("connections=")) {
                connections = Integer.parseInt(a.substring(12));
            } else if (a.startsWith("routes=")) {
                routes = a.substring(7);
            } else if (a.startsWith("rounds=")) {
                rounds = Integer.parseInt(a.substring(7));
            } else if (a.startsWith("seconds=")) {
                seconds = Integer.parseInt(a.substring(8));
            } else if (a.startsWith("threads=")) {
                threads = Integer.parseInt(a.substring(8));
            } else if (a.startsWith("factor=")) {
                factor = Integer.parseInt(a.substring(7));
            }
        }
        PostgresServer pg = TestInfra.postgres();
        String url = pg.createDatabase("billing_reservation_bench");
        Migrations.migrate(url, pg.user(), pg.password());
        BillingApiConfig config = new BillingApiConfig(0, url, pg.user(), pg.password(), ADMIN, EnforcementMode.ENFORCE,
                0, Duration.ofDays(3650), StalePolicy.FAIL_OPEN, 16).withReservationLockFreeFactor(factor);
        try (BillingApi a = BillingApi.start(config, Clock.systemUTC());
             BillingApi b = BillingApi.start(config, Clock.systemUTC())) {
            int[] ports = {a.port(), b.port()};
            send("PUT", ports[0], "/api/v1/plans", "application/yaml", """
                    defaultPlan: big
                    plans:
                      - id: big
                        limits: [{ id: day, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 1000000000 }]
                      - id: capped
                        limits: [{ id: day, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 10 }]
                      - id: near
                        limits: [{ id: day, feature: CHAT_MESSAGE, meter: quantity, window: day, max: %d }]
                      - id: crowded
                        limits: [{ id: day, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 2000 }]
                    """.formatted(openLoop ? 16 : Math.max(1, factor <= 0 ? threads / 2 : Math.min(threads / 2, factor - 1))));
            // until the other instance's cache has the catalog (at most a second)
            while (!send("GET", ports[1], "/api/v1/usage/race-0/check/CHAT_MESSAGE?quantity=0", null, null)
                    .contains("\"plan\":\"big\"")) {
                Thread.sleep(20);
            }
            if (openLoop) {
                subscribe(ports, "near", "near");
                subscribe(ports, "crowded", "crowded");
                openLoop(ports, rates, seconds, connections, routes, factor);
            } else {
                closedLoop(ports, url, pg, rounds, seconds, threads, factor);
            }
        }
        System.exit(0);
    }

    /** The overshoot rounds, the exclusive statements and the closed-loop table (see the class comment). */
    private static void closedLoop(int[] ports, String url, PostgresServer pg, int rounds, int seconds, int threads,
                                   int factor) throws Exception {
        overshoot(ports, rounds);
        stages(url, pg, 2000);
        // room for fewer reservations than threads, and for fewer than K: every decision takes the exclusive
        // path, and some are refused
        subscribe(ports, "near", "near");
        System.out.printf(Locale.ROOT, "%-44s %10s %9s %9s %9s%n", "closed loop, " + threads + " threads, " + seconds
                + " s, K=" + factor, "ops/s", "p50 ms", "p99 ms", "max ms");
        AtomicInteger seq = new AtomicInteger();
        run("reserve + release, hot org far from cap", ports, threads, seconds,
                i -> reserveAndRelease(ports, i, "hot", seq));
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger decided = new AtomicInteger();
        run("reserve (+ release), hot org at its cap", ports, threads, seconds, i -> {
            decided.incrementAndGet();
            return reserveAndRelease(ports, i, "near", seq, refused);
        });
        System.out.printf(Locale.ROOT, "  (at its cap: %d of %d reservations refused)%n", refused.get(), decided.get());
        // reservations alone: holds of 1 s leave by expiry (at its cap: mostly refusals, each a full decision)
        run("reserve only (1 s holds), hot org far from cap", ports, threads, seconds, i -> send("POST", ports[i % 2],
                "/api/v1/usage/hot/reservations", "application/json", "{\"requestId\":\"o" + seq.incrementAndGet()
                        + "\",\"feature\":\"CHAT_MESSAGE\",\"ttlSeconds\":1}"));
        run("reserve only (1 s holds), hot org at its cap", ports, threads, seconds, i -> send("POST", ports[i % 2],
                "/api/v1/usage/near/reservations", "application/json", "{\"requestId\":\"o" + seq.incrementAndGet()
                        + "\",\"feature\":\"CHAT_MESSAGE\",\"ttlSeconds\":1}"));
        run("reserve + release, 10,000 orgs", ports, threads, seconds,
                i -> reserveAndRelease(ports, i, "org-" + ThreadLocalRandom.current().nextInt(10_000), seq));
        run("check, org without holds", ports, threads, seconds,
                i -> send("GET", ports[i % 2], "/api/v1/usage/idle/check/CHAT_MESSAGE", null, null));
        for (int h = 0; h < 20; h++) {
            send("POST", ports[0], "/api/v1/usage/holding/reservations", "application/json",
                    "{\"requestId\":\"h" + h + "\",\"feature\":\"CHAT_MESSAGE\",\"ttlSeconds\":3600}");
        }
        run("check, org with 20 live holds", ports, threads, seconds,
                i -> send("GET", ports[i % 2], "/api/v1/usage/holding/check/CHAT_MESSAGE", null, null));
        // what the plain check pays for holds when the org has none: one probe of the partial index
        org.jooq.DSLContext db = org.jooq.impl.DSL.using(url, pg.user(), pg.password());
        db.execute("ANALYZE metering.reservations");
        System.out.println("reservations rows: " + db.fetchCount(org.jooq.impl.DSL.table("metering.reservations")));
        db.fetch("EXPLAIN (ANALYZE, BUFFERS) select feature, user_id, conversation_id, sum(quantity), sum(tokens), "
                + "sum(cost_usd) from metering.reservations r where r.org_id = 'idle' and r.released_at is null "
                + "and r.expires_at > now() group by feature, user_id, conversation_id")
                .forEach(r -> System.out.println("  " + r.get(0)));
    }

    /** Puts the org on the plan, seen by both instances. */
    private static void subscribe(int[] ports, String org, String plan) throws InterruptedException {
        send("PUT", ports[0], "/api/v1/orgs/" + org + "/subscription", "application/json",
                "{\"planId\":\"" + plan + "\"}");
        while (!send("GET", ports[1], "/api/v1/usage/" + org + "/check/CHAT_MESSAGE?quantity=0", null, null)
                .contains("\"plan\":\"" + plan + "\"")) {
            Thread.sleep(20);
        }
    }

    /** The routes at fixed rates from {@link LoadGenerator} in its own JVM (it prints the table). */
    private static void openLoop(int[] ports, String rates, int seconds, int connections, String routes, int factor)
            throws Exception {
        System.out.printf(Locale.ROOT, "open loop through both instances, %d connections, %d s per rate and route, "
                + "K=%d; holds of 1 s, room for 16 (near) or 2,000 (crowded)%n", connections, seconds, factor);
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-XX:+UseSerialGC", "-Xms256m", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"),
                LoadGenerator.class.getName(),
                "port=" + ports[0], "ports=" + ports[0] + "," + ports[1], "token=" + ADMIN, "orgs=1",
                "rates=" + rates, "seconds=" + seconds, "connections=" + connections, "routes=" + routes, "ttl=1",
                "serverPid=" + ProcessHandle.current().pid()));
        int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
        if (exit != 0) {
            System.out.println("load generator exited with " + exit);
        }
    }

    /** Each round: a fresh org with room for 10, 50 concurrent reservations of 1 alternating between instances. */
    private static void overshoot(int[] ports, int rounds) throws Exception {
        int maxAllowed = Integer.MIN_VALUE;
        int minAllowed = Integer.MAX_VALUE;
        ExecutorService pool = Executors.newFixedThreadPool(50);
        try {
            for (int r = 0; r < rounds; r++) {
                String org = "race-" + r;
                send("PUT", ports[0], "/api/v1/orgs/" + org + "/subscription", "application/json", "{\"planId\":\"capped\"}");
                // until the other instance's cache has the subscription (at most a second)
                while (!send("GET", ports[1], "/api/v1/usage/" + org + "/check/CHAT_MESSAGE?quantity=0", null, null)
                        .contains("\"plan\":\"capped\"")) {
                    Thread.sleep(20);
                }
                CountDownLatch go = new CountDownLatch(1);
                List<Future<String>> answers = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    int port = ports[i % 2];
                    String body = "{\"requestId\":\"" + i + "\",\"feature\":\"CHAT_MESSAGE\"}";
                    answers.add(pool.submit(() -> {
                        go.await();
                        return send("POST", port, "/api/v1/usage/" + org + "/reservations", "application/json", body);
                    }));
                }
                go.countDown();
                int allowed = 0;
                for (Future<String> f : answers) {
                    if (f.get().contains("\"allowed\":true")) {
                        allowed++;
                    }
                }
                maxAllowed = Math.max(maxAllowed, allowed);
                minAllowed = Math.min(minAllowed, allowed);
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf(Locale.ROOT, "overshoot: %d rounds of 50 concurrent reservations for room of 10 through 2 "
                + "instances: allowed min %d, max %d; max overshoot %d, max false refusals %d%n", rounds, minAllowed,
                maxAllowed, Math.max(0, maxAllowed - 10), Math.max(0, 10 - minAllowed));
    }

    /**
     * One exclusive reservation's statements, one after another on one connection, {@code n} times:
     * the mean time of each (the exclusive path holds the org's lock for their sum).
     */
    private static void stages(String url, PostgresServer pg, int n) throws Exception {
        String[] names = {"lock (first statement, begins)", "earlier by requestId", "live holds", "usage totals",
                "insert hold", "commit"};
        long[] nanos = new long[names.length];
        Instant now = Instant.now();
        Instant dayStart = now.truncatedTo(java.time.temporal.ChronoUnit.DAYS);
        List<UsageSegment> segments = Segments.decompose(dayStart, dayStart.plus(Duration.ofDays(1)), null,
                "CHAT_MESSAGE");
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
            c.setAutoCommit(false);
            UsageRepository usage = new UsageRepository(org.jooq.impl.DSL.using(c, org.jooq.SQLDialect.POSTGRES));
            for (int i = -200; i < n; i++) {
                long[] t = new long[names.length + 1];
                t[0] = System.nanoTime();
                exec(c, "select pg_advisory_xact_lock(hashtextextended(?, 0))", "metering.reservations/stages");
                t[1] = System.nanoTime();
                exec(c, "select id from metering.reservations where org_id = ? and request_id = any(?::text[])",
                        "stages", new String[] {"s" + i});
                t[2] = System.nanoTime();
                exec(c, "select feature, user_id, conversation_id, sum(quantity), sum(tokens), sum(cost_usd) "
                        + "from metering.reservations r where r.org_id = ? and r.released_at is null "
                        + "and r.expires_at > now() and r.settled_at is null group by 1, 2, 3", "stages");
                t[3] = System.nanoTime();
                usage.totals("stages", new java.util.LinkedHashSet<>(segments));
                t[4] = System.nanoTime();
                exec(c, "insert into metering.reservations (id, org_id, request_id, feature, quantity, tokens, cost_usd, "
                        + "ttl_seconds, created_at, expires_at, answer) values (?, 'stages', ?, 'CHAT_MESSAGE', 1, 0, 0, "
                        + "300, now(), now() + interval '1 second', '{}')", "stage-" + i, "s" + i);
                t[5] = System.nanoTime();
                c.commit();
                t[6] = System.nanoTime();
                for (int k = 0; i >= 0 && k < names.length; k++) {
                    nanos[k] += t[k + 1] - t[k];
                }
            }
        }
        long total = Arrays.stream(nanos).sum();
        System.out.printf(Locale.ROOT, "one exclusive reservation's statements, one connection, %d times: %.0f us%n", n,
                total / 1e3 / n);
        for (int k = 0; k < names.length; k++) {
            System.out.printf(Locale.ROOT, "  %-32s %7.0f us %5.1f%%%n", names[k], nanos[k] / 1e3 / n,
                    100.0 * nanos[k] / total);
        }
    }

    private static void exec(Connection c, String sql, Object... binds) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < binds.length; i++) {
                ps.setObject(i + 1, binds[i]);
            }
            try (ResultSet rs = ps.execute() ? ps.getResultSet() : null) {
                while (rs != null && rs.next()) {
                    rs.getObject(1);
                }
            }
        }
    }

    private static String reserveAndRelease(int[] ports, int i, String org, AtomicInteger seq) {
        return reserveAndRelease(ports, i, org, seq, null);
    }

    /** A reservation, released at once; {@code refused} null: a refusal is an error, else counted. */
    private static String reserveAndRelease(int[] ports, int i, String org, AtomicInteger seq, AtomicInteger refused) {
        String answer = send("POST", ports[i % 2], "/api/v1/usage/" + org + "/reservations", "application/json",
                "{\"requestId\":\"r" + seq.incrementAndGet() + "\",\"feature\":\"CHAT_MESSAGE\"}");
        int at = answer.indexOf("\"reservationId\":\"");
        if (at < 0 && refused != null && answer.contains("\"allowed\":false")) {
            refused.incrementAndGet();
            return answer;
        }
        if (at < 0) {
            throw new IllegalStateException("not held: " + answer);
        }
        String id = answer.substring(at + 17, answer.indexOf('"', at + 17));
        send("DELETE", ports[(i + 1) % 2], "/api/v1/usage/" + org + "/reservations/" + id, null, null);
        return answer;
    }

    /** Latency of the first request of each call (the reservation, or the check). */
    private static void run(String name, int[] ports, int threads, int seconds, IntFunction<String> call)
            throws Exception {
        for (int i = 0; i < 200; i++) {
            call.apply(i);
        }
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<long[]>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            results.add(pool.submit(() -> {
                long[] lat = new long[1 << 16];
                int n = 0;
                for (int i = thread; System.nanoTime() < end; i += threads) {
                    long start = System.nanoTime();
                    call.apply(i);
                    if (n == lat.length) {
                        lat = Arrays.copyOf(lat, n * 2);
                    }
                    lat[n++] = System.nanoTime() - start;
                }
                return Arrays.copyOf(lat, n);
            }));
        }
        List<long[]> all = new ArrayList<>();
        for (Future<long[]> f : results) {
            all.add(f.get());
        }
        pool.shutdown();
        long[] lat = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        System.out.printf(Locale.ROOT, "%-44s %10.0f %9.2f %9.2f %9.2f%n", name, lat.length / (double) seconds,
                lat[lat.length / 2] / 1e6, lat[(int) (lat.length * 0.99)] / 1e6, lat[lat.length - 1] / 1e6);
    }

    private static String send(String method, int port, String path, String contentType, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + ADMIN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() >= 300) {
                throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
            }
            return r.body();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
