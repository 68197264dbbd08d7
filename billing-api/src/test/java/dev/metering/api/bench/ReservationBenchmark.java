package dev.metering.api.bench;

import dev.metering.api.BillingApi;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
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
 * reserve-then-release for one hot org and for 10,000 orgs, next to plain checks of an org without
 * and with live holds. The client threads run in this JVM, beside both servers.
 *
 * <pre>
 * mvn -B -ntp -pl billing-api test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * cd billing-api &amp;&amp; flock /tmp/metering-it.lock java -cp target/test-classes:target/classes:$(cat target/cp.txt) \
 *      dev.metering.api.bench.ReservationBenchmark [rounds=20] [seconds=10] [threads=32]
 * </pre>
 */
public final class ReservationBenchmark {

    private static final String ADMIN = "bench-admin-token-0123456789";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        int rounds = 20;
        int seconds = 10;
        int threads = 32;
        for (String a : args) {
            if (a.startsWith("rounds=")) {
                rounds = Integer.parseInt(a.substring(7));
            } else if (a.startsWith("seconds=")) {
                seconds = Integer.parseInt(a.substring(8));
            } else if (a.startsWith("threads=")) {
                threads = Integer.parseInt(a.substring(8));
            }
        }
        PostgresServer pg = TestInfra.postgres();
        String url = pg.createDatabase("billing_reservation_bench");
        Migrations.migrate(url, pg.user(), pg.password());
        BillingApiConfig config = new BillingApiConfig(0, url, pg.user(), pg.password(), ADMIN, EnforcementMode.ENFORCE,
                0, Duration.ofDays(3650), StalePolicy.FAIL_OPEN, 16);
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
                    """);
            // until the other instance's cache has the catalog (at most a second)
            while (!send("GET", ports[1], "/api/v1/usage/race-0/check/CHAT_MESSAGE?quantity=0", null, null)
                    .contains("\"plan\":\"big\"")) {
                Thread.sleep(20);
            }
            overshoot(ports, rounds);
            System.out.printf(Locale.ROOT, "%-44s %10s %9s %9s %9s%n", "closed loop, " + threads + " threads, " + seconds
                    + " s", "ops/s", "p50 ms", "p99 ms", "max ms");
            AtomicInteger seq = new AtomicInteger();
            run("reserve + release, one hot org", ports, threads, seconds, i -> reserveAndRelease(ports, i, "hot", seq));
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
        System.exit(0);
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

    private static String reserveAndRelease(int[] ports, int i, String org, AtomicInteger seq) {
        String answer = send("POST", ports[i % 2], "/api/v1/usage/" + org + "/reservations", "application/json",
                "{\"requestId\":\"r" + seq.incrementAndGet() + "\",\"feature\":\"CHAT_MESSAGE\"}");
        int at = answer.indexOf("\"reservationId\":\"");
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
