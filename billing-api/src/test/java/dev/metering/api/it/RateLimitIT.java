package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import dev.metering.api.ratelimit.RateLimitSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API's own rate limits and the negative key cache over real HTTP (docs/contract.md, Rate
 * limits): small budgets on a standing test clock, so every count is exact. Each test starts an
 * hour after the previous one, when every bucket is full again.
 */
class RateLimitIT {

    /** 2 requests/s with bursts of 3; checks 5/s with bursts of 5; 5 failed authentications a minute. */
    private static final RateLimitSettings LIMITS = new RateLimitSettings(2, 3, 5, 5, 5);
    private static final String LOOKUPS_UNKNOWN = "metering_api_key_lookups_total{result=\"unknown\"}";

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.startWithRateLimits("billing_rate_limits", LIMITS);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void anHourLater() {
        server.clock.advance(Duration.ofHours(1));
    }

    private static String[] key(String org, String... scopes) {
        String[] k = server.createKey(org, scopes);
        server.clock.advance(Duration.ofHours(1));
        return k;
    }

    @Test
    void shouldAnswer429WithRetryAfterOnceAKeysBudgetIsUsedUp() {
        String[] k = key("rl-acme", "read");
        String[] other = key("rl-acme", "read");
        for (int i = 0; i < 3; i++) {
            assertThat(server.get("/api/v1/usage/rl-acme/limits", k[1]).status()).isEqualTo(200);
        }
        Response r = server.get("/api/v1/usage/rl-acme/limits", k[1]);
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.raw().headers().firstValue("Retry-After")).hasValue("1");
        assertThat(r.text("/error/code")).isEqualTo("RATE_LIMITED");
        assertThat(r.text("/error/message")).isEqualTo("this key's request budget is used up; retry after 1 s");
        // another key has its own budget
        assertThat(server.get("/api/v1/usage/rl-acme/limits", other[1]).status()).isEqualTo(200);

        server.clock.advance(Duration.ofMillis(499));
        assertThat(server.get("/api/v1/usage/rl-acme/limits", k[1]).status()).isEqualTo(429);
        server.clock.advance(Duration.ofMillis(1));
        assertThat(server.get("/api/v1/usage/rl-acme/limits", k[1]).status()).isEqualTo(200);
        assertThat(server.get("/api/v1/usage/rl-acme/limits", k[1]).status()).isEqualTo(429);
        assertThat(server.metric("metering_api_rate_limited_total{limit=\"key\"}")).isGreaterThanOrEqualTo(3);
    }

    @Test
    void shouldGiveChecksAndReservationsTheirOwnBudget() {
        String[] k = key("rl-check", "check", "read");
        for (int i = 0; i < 3; i++) {
            assertThat(server.get("/api/v1/usage/rl-check/limits", k[1]).status()).isEqualTo(200);
        }
        assertThat(server.get("/api/v1/usage/rl-check/limits", k[1]).status()).isEqualTo(429);
        for (int i = 0; i < 4; i++) {
            assertThat(server.get("/api/v1/usage/rl-check/check/CHAT_MESSAGE", k[1]).status()).isEqualTo(200);
        }
        Response reservation = server.post("/api/v1/usage/rl-check/reservations", k[1],
                "{\"requestId\":\"r1\",\"feature\":\"CHAT_MESSAGE\"}");
        assertThat(reservation.status()).isIn(200, 201);
        Response r = server.get("/api/v1/usage/rl-check/check/CHAT_MESSAGE", k[1]);
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.raw().headers().firstValue("Retry-After")).hasValue("1");
        assertThat(r.text("/error/message")).startsWith("this key's budget for ingest, checks and reservations is used up");
    }

    @Test
    void shouldLimitTheAdminTokenLikeAnyKey() {
        for (int i = 0; i < 3; i++) {
            assertThat(server.get("/api/v1/plans", ADMIN).status()).isIn(200, 404);
        }
        Response r = server.get("/api/v1/plans", ADMIN);
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.text("/error/code")).isEqualTo("RATE_LIMITED");
    }

    @Test
    void shouldAnswer429ToAnAddressAfterTooManyFailedAuthentications() {
        String[] known = key("rl-auth", "read");
        String[] notYetUsed = key("rl-auth", "read");
        assertThat(server.get("/api/v1/me", known[1]).status()).isEqualTo(200);
        for (int i = 0; i < 4; i++) {
            assertThat(server.get("/api/v1/me", "mk_wrong-" + i).status()).isEqualTo(401);
        }
        assertThat(server.get("/api/v1/me", null).status()).isEqualTo(401);
        Response r = server.get("/api/v1/me", "mk_wrong-5");
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.raw().headers().firstValue("Retry-After")).hasValue("12");
        assertThat(r.text("/error/code")).isEqualTo("RATE_LIMITED");
        assertThat(r.text("/error/message")).isEqualTo("too many failed authentications from this address; retry after 12 s");
        assertThat(server.get("/api/v1/me", null).status()).isEqualTo(429);

        // a key this instance already knows keeps working; one it would have to look up waits
        assertThat(server.get("/api/v1/me", known[1]).status()).isEqualTo(200);
        assertThat(server.get("/api/v1/me", notYetUsed[1]).status()).isEqualTo(429);

        server.clock.advance(Duration.ofSeconds(12));
        assertThat(server.get("/api/v1/me", notYetUsed[1]).status()).isEqualTo(200);
        assertThat(server.get("/api/v1/me", "mk_wrong-6").status()).isEqualTo(401);
        assertThat(server.get("/api/v1/me", "mk_wrong-7").status()).isEqualTo(429);
    }

    @Test
    void shouldReadTheDatabaseOnceForAnUnknownKeyRepeatedFromSixteenThreads() throws Exception {
        double before = server.metric(LOOKUPS_UNKNOWN);
        List<Integer> statuses = hammer(400, i -> "mk_the-same-unknown-key");
        assertThat(server.metric(LOOKUPS_UNKNOWN) - before).isEqualTo(1.0);
        assertThat(statuses).hasSize(400).allMatch(s -> s == 401 || s == 429);
        long unauthorized = statuses.stream().filter(s -> s == 401).count();
        // 5 failures a minute; requests already past the limit check when the fifth failed still answer 401
        assertThat(unauthorized).isBetween(5L, 5L + 16);
    }

    @Test
    void shouldBoundTheLookupsOfManyDifferentUnknownKeysByTheFailedAuthenticationBudget() throws Exception {
        double before = server.metric(LOOKUPS_UNKNOWN);
        List<Integer> statuses = hammer(400, i -> "mk_unknown-" + i);
        double lookups = server.metric(LOOKUPS_UNKNOWN) - before;
        assertThat(lookups).isBetween(5.0, 5.0 + 16);
        assertThat(statuses.stream().filter(s -> s == 429).count()).isGreaterThanOrEqualTo(400 - 5 - 16);
    }

    private interface Token {
        String of(int i);
    }

    /** {@code n} requests of /api/v1/me from 16 threads; their statuses. */
    private static List<Integer> hammer(int n, Token token) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            AtomicInteger next = new AtomicInteger();
            List<Future<List<Integer>>> parts = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                parts.add(pool.submit(() -> {
                    List<Integer> out = new ArrayList<>();
                    for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                        out.add(server.get("/api/v1/me", token.of(i)).status());
                    }
                    return out;
                }));
            }
            List<Integer> all = new ArrayList<>();
            for (Future<List<Integer>> f : parts) {
                all.addAll(f.get());
            }
            return all;
        } finally {
            pool.shutdownNow();
        }
    }
}
