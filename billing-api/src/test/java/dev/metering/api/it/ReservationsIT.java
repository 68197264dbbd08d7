package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Reservations on the real API and PostgreSQL, through two instances where it matters: concurrent
 * reservations never overshoot a hard cap or a prepaid balance, retries are idempotent, a settled
 * hold counts until the usage counts it, release and expiry free the room.
 */
class ReservationsIT {

    private static final String CATALOG = """
            defaultPlan: capped
            plans:
              - id: capped
                limits:
                  - { id: day, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 10 }
              - id: per-user
                limits:
                  - { id: user-day, feature: CHAT_MESSAGE, meter: quantity, window: day, scope: user, max: 5 }
              - id: prepaid
                prepaid: true
                minBalanceUsd: "0"
            """;
    private static final Instant T0 = ApiServer.T0;

    private static String reservation(String requestId, String extra) {
        return "{\"requestId\":\"" + requestId + "\",\"feature\":\"CHAT_MESSAGE\"" + extra + "}";
    }

    private static Response reserve(ApiServer s, String org, String body) {
        return s.post("/api/v1/usage/" + org + "/reservations", ApiServer.ADMIN, body);
    }

    /** Fires every body at once, alternating between the instances; the answers in order. */
    private static List<Response> concurrently(ApiServer a, ApiServer b, String org, List<String> bodies)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(bodies.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Response>> futures = new ArrayList<>();
            for (int i = 0; i < bodies.size(); i++) {
                ApiServer s = i % 2 == 0 ? a : b;
                String body = bodies.get(i);
                futures.add(pool.submit(() -> {
                    go.await();
                    return reserve(s, org, body);
                }));
            }
            go.countDown();
            List<Response> out = new ArrayList<>();
            for (Future<Response> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static long allowed(List<Response> answers) {
        return answers.stream().filter(r -> r.json().get("allowed").asBoolean()).count();
    }

    @Test
    void shouldAllowExactlyOneOfFiftyConcurrentReservationsOneUnitUnderTheCapAcrossTwoInstances() throws Exception {
        String url = ApiServer.freshDatabase("billing_reservations_race");
        try (ApiServer a = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
             ApiServer b = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            a.applyCatalog(CATALOG);
            a.sink.messages("acme", "", T0.minusSeconds(600), 9);
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                    .until(() -> "capped".equals(b.check("acme", "CHAT_MESSAGE", "quantity=0").text("/plan")));
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                bodies.add(reservation("race-" + i, ""));
            }
            List<Response> answers = concurrently(a, b, "acme", bodies);

            assertThat(answers).allSatisfy(r -> assertThat(r.status()).isIn(200, 201));
            assertThat(allowed(answers)).isEqualTo(1);
            assertThat(answers.stream().filter(r -> r.status() == 201).count()).isEqualTo(1);
            assertThat(answers.stream().filter(r -> !r.json().get("allowed").asBoolean()))
                    .hasSize(49)
                    .allSatisfy(r -> {
                        assertThat(r.text("/code")).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
                        assertThat(r.text("/reservationId")).isNull();
                    });
            assertThat(a.db.fetchCount(a.db.selectFrom("metering.reservations"))).isEqualTo(1);

            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
                Response limits = b.get("/api/v1/usage/acme/limits", ApiServer.ADMIN);
                assertThat(limits.json().at("/limits/0/used").asLong()).isEqualTo(9);
                assertThat(limits.json().at("/limits/0/held").asLong()).isEqualTo(1);
                assertThat(limits.json().at("/limits/0/remaining").asLong()).isEqualTo(0);
            });
            Response check = b.check("acme", "CHAT_MESSAGE", null);
            assertThat(check.json().get("allowed").asBoolean()).as("a plain check counts the hold").isFalse();
            assertThat(check.json().at("/limits/0/held").asLong()).isEqualTo(1);
        }
    }

    /**
     * K = 1 and two instances: at most one shared reservation of an org is in flight per instance,
     * so a limit ends at most (I - 1) x rMax - (K - 1) x r = 2 above its cap with requests of 2; the
     * first ones (far from the cap) may take the shared path, the last ones the exclusive one, and
     * nothing is refused while there is room.
     */
    @Test
    void shouldStayWithinTheStatedBoundFromFarToNearTheCapAcrossTwoInstances() throws Exception {
        String url = ApiServer.freshDatabase("billing_reservations_bound");
        try (ApiServer a = ApiServer.start(url, 8, 1); ApiServer b = ApiServer.start(url, 8, 1)) {
            a.applyCatalog(CATALOG.replace("max: 10 }", "max: 150 }"));
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                    .until(() -> "150".equals(b.check("acme", "CHAT_MESSAGE", "quantity=0").text("/limits/0/limit")));
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                bodies.add(reservation("bound-" + i, ",\"quantity\":2"));
            }
            List<Response> answers = concurrently(a, b, "acme", bodies);

            assertThat(answers).allSatisfy(r -> assertThat(r.status()).isIn(200, 201));
            long held = a.db.fetchOne("select coalesce(sum(quantity), 0) from metering.reservations").get(0, Long.class);
            assertThat(held).isEqualTo(2 * allowed(answers));
            assertThat(held).as("no refusal while there was room").isGreaterThanOrEqualTo(150);
            assertThat(held).as("cap + (I - 1) x 2 - (K - 1) x 2").isLessThanOrEqualTo(150 + 2);
            assertThat(answers.stream().filter(r -> !r.json().get("allowed").asBoolean()))
                    .allSatisfy(r -> assertThat(r.text("/code")).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED"));
        }
    }

    /** With K at least the number of instances (I = 2), equal requests never overshoot, from far to near. */
    @Test
    void shouldHoldExactlyTheCapWhenKCoversTheInstances() throws Exception {
        String url = ApiServer.freshDatabase("billing_reservations_exact");
        try (ApiServer a = ApiServer.start(url, 8, 2); ApiServer b = ApiServer.start(url, 8, 2)) {
            a.applyCatalog(CATALOG.replace("max: 10 }", "max: 60 }"));
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                    .until(() -> "60".equals(b.check("acme", "CHAT_MESSAGE", "quantity=0").text("/limits/0/limit")));
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                bodies.add(reservation("exact-" + i, ""));
            }
            List<Response> answers = concurrently(a, b, "acme", bodies);

            assertThat(allowed(answers)).isEqualTo(60);
            assertThat(a.db.fetchOne("select sum(quantity) from metering.reservations").get(0, Long.class))
                    .isEqualTo(60);
        }
    }

    @Test
    void shouldAnswerTheRetryTimeOfARefusedReservationWhenTheHoldsBlockingItExpire() {
        try (ApiServer s = ApiServer.start("billing_reservations_retry_after")) {
            s.applyCatalog(CATALOG);
            s.sink.messages("acme", "", T0.minusSeconds(600), 4);
            reserve(s, "acme", reservation("short", ",\"quantity\":2,\"ttlSeconds\":90"));
            reserve(s, "acme", reservation("long", ",\"quantity\":4,\"ttlSeconds\":600"));
            Response two = reserve(s, "acme", reservation("two", ",\"quantity\":2"));
            assertThat(two.json().get("allowed").asBoolean()).isFalse();
            assertThat(two.json().get("retryAfterSeconds").asLong()).as("the 90 s hold frees 2").isEqualTo(90);
            Response three = reserve(s, "acme", reservation("three", ",\"quantity\":3"));
            assertThat(three.json().get("retryAfterSeconds").asLong()).as("both holds must go").isEqualTo(600);
            Response seven = reserve(s, "acme", reservation("seven", ",\"quantity\":7"));
            assertThat(seven.json().get("retryAfterSeconds").asLong()).as("the usage too: the day's reset at midnight")
                    .isEqualTo(5 * 3600 + 30 * 60);
            Response check = s.check("acme", "CHAT_MESSAGE", "quantity=2");
            assertThat(check.json().get("retryAfterSeconds").asLong()).as("a plain check answers the same").isEqualTo(90);
        }
    }

    /** A refusal's retry time walks the live holds by expiry only as far as it must, however many there are. */
    @Test
    void shouldAnswerTheRetryTimeOfAnOrgWithManyLiveHolds() {
        try (ApiServer s = ApiServer.start("billing_reservations_retry_many")) {
            s.applyCatalog(CATALOG.replace("max: 10 }", "max: 180 }"));
            for (int i = 0; i < 149; i++) {
                assertThat(reserve(s, "acme", reservation("one-" + i, ",\"ttlSeconds\":600")).status()).isEqualTo(201);
            }
            assertThat(reserve(s, "acme", reservation("thirty", ",\"quantity\":30,\"ttlSeconds\":90")).status())
                    .isEqualTo(201);

            Response ten = reserve(s, "acme", reservation("ten", ",\"quantity\":10"));
            assertThat(ten.json().get("allowed").asBoolean()).isFalse();
            assertThat(ten.text("/limits/0/held")).isEqualTo("179");
            assertThat(ten.json().get("retryAfterSeconds").asLong()).as("the 30 leave at 90 s").isEqualTo(90);
            Response forty = reserve(s, "acme", reservation("forty", ",\"quantity\":40"));
            assertThat(forty.json().get("retryAfterSeconds").asLong()).as("9 of the ones must go too").isEqualTo(600);
        }
    }

    @Test
    void shouldHoldAPrepaidBalanceSoThatExactlyTenOfFiftyConcurrentTenCentReservationsPass() throws Exception {
        String url = ApiServer.freshDatabase("billing_reservations_prepaid");
        try (ApiServer a = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
             ApiServer b = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            a.applyCatalog(CATALOG);
            a.subscribe("acme", "{\"planId\":\"prepaid\"}");
            assertThat(a.post("/api/v1/orgs/acme/credits", ApiServer.ADMIN, "{\"amountUsd\":\"1.00\"}").status())
                    .isEqualTo(201);
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        Response seen = b.check("acme", "CHAT_MESSAGE", null);
                        return "prepaid".equals(seen.text("/plan")) && "1".equals(seen.text("/balanceUsd"));
                    });
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                bodies.add(reservation("spend-" + i, ",\"costUsd\":\"0.10\""));
            }
            List<Response> answers = concurrently(a, b, "acme", bodies);

            assertThat(allowed(answers)).isEqualTo(10);
            assertThat(answers.stream().filter(r -> !r.json().get("allowed").asBoolean()))
                    .hasSize(40)
                    .allSatisfy(r -> {
                        assertThat(r.text("/code")).isEqualTo("INSUFFICIENT_BALANCE");
                        assertThat(r.json().get("suggestedStatus").asInt()).isEqualTo(402);
                    });
            assertThat(a.db.fetchOne("select sum(cost_usd) from metering.reservations").get(0, java.math.BigDecimal.class))
                    .isEqualByComparingTo("1.00");
        }
    }

    @Test
    void shouldAnswerARetriedRequestIdWithTheSameReservationAndHoldOnce() {
        try (ApiServer s = ApiServer.start("billing_reservations_retry")) {
            s.applyCatalog(CATALOG);
            Response first = reserve(s, "acme", reservation("req-1", ",\"quantity\":3,\"ttlSeconds\":120"));
            assertThat(first.status()).isEqualTo(201);
            assertThat(first.text("/reservationId")).startsWith("res_");
            assertThat(first.text("/expiresAt")).isEqualTo("2026-11-22T18:32:00Z");
            assertThat(first.json().at("/limits/0/held").asLong()).as("held before this one").isEqualTo(0);

            Response retry = reserve(s, "acme", reservation("req-1", ",\"quantity\":3,\"ttlSeconds\":120"));
            assertThat(retry.status()).isEqualTo(200);
            assertThat(retry.body()).isEqualTo(first.body());
            assertThat(s.db.fetchCount(s.db.selectFrom("metering.reservations"))).isEqualTo(1);
            assertThat(s.get("/api/v1/usage/acme/limits", ApiServer.ADMIN).json().at("/limits/0/held").asLong())
                    .isEqualTo(3);

            Response reused = reserve(s, "acme", reservation("req-1", ",\"quantity\":4,\"ttlSeconds\":120"));
            assertThat(reused.status()).isEqualTo(409);
            assertThat(reused.text("/error/code")).isEqualTo("REQUEST_ID_REUSED");
            assertThat(reused.text("/error/field")).isEqualTo("requestId");
        }
    }

    @Test
    void shouldKeepASettledHoldCountedUntilTheUsageCountsItsEvent() {
        try (ApiServer s = ApiServer.start("billing_reservations_settle")) {
            s.applyCatalog(CATALOG);
            String id = reserve(s, "acme", reservation("call-1", ",\"quantity\":2")).text("/reservationId");
            s.clock.advance(Duration.ofSeconds(1));
            Response settled = s.post("/api/v1/usage/acme/reservations/" + id + "/settle", ApiServer.ADMIN, "{}");
            assertThat(settled.status()).isEqualTo(200);
            assertThat(settled.text("/status")).isEqualTo("settled");
            assertThat(settled.text("/settledAt")).isEqualTo("2026-11-22T18:30:01Z");
            assertThat(limitDay(s)).containsExactly(0L, 2L);

            // the sink wrote the usage, but usage_as_of has not passed the settle time: counted twice, never zero times
            s.sink.messages("acme", "", T0.plusMillis(500), 2);
            assertThat(limitDay(s)).containsExactly(2L, 2L);

            s.sink.progress(T0.plusSeconds(2));
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                    .untilAsserted(() -> assertThat(limitDay(s)).containsExactly(2L, 0L));

            Response again = s.post("/api/v1/usage/acme/reservations/" + id + "/settle", ApiServer.ADMIN, "");
            assertThat(again.status()).as("settling again with the same eventId (none)").isEqualTo(200);
            Response other = s.post("/api/v1/usage/acme/reservations/" + id + "/settle", ApiServer.ADMIN,
                    "{\"eventId\":\"evt-9\"}");
            assertThat(other.status()).isEqualTo(409);
            assertThat(other.text("/error/code")).isEqualTo("RESERVATION_SETTLED");
            Response delete = s.delete("/api/v1/usage/acme/reservations/" + id, ApiServer.ADMIN);
            assertThat(delete.status()).isEqualTo(409);
            assertThat(delete.text("/error/code")).isEqualTo("RESERVATION_SETTLED");
        }
    }

    @Test
    void shouldStopCountingASettledHoldOnceItsEventIsInTheEventLogBeforeUsageAsOf() {
        try (ApiServer s = ApiServer.start("billing_reservations_eventlog")) {
            s.applyCatalog(CATALOG);
            s.db.execute("create table metering.usage_events_p20261122 partition of metering.usage_events "
                    + "for values from ('2026-11-22T00:00:00Z') to ('2026-11-23T00:00:00Z')");
            String id = reserve(s, "acme", reservation("call-2", "")).text("/reservationId");
            // the event was counted (log row at 18:30:01, totals complete up to 18:30:02), then the caller settles late
            s.db.execute("insert into metering.usage_events (event_id, org_id, occurred_at, feature, quantity, "
                    + "input_tokens, output_tokens, cached_input_tokens, cost_usd, priced, recorded_at) values "
                    + "('evt-1', 'acme', '2026-11-22T18:30:00Z', 'CHAT_MESSAGE', 1, 0, 0, 0, 0, true, "
                    + "'2026-11-22T18:30:01Z')");
            s.sink.messages("acme", "", T0, 1).progress(T0.plusSeconds(2));
            s.clock.advance(Duration.ofSeconds(3));
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50)).until(() ->
                    "2026-11-22T18:30:02Z".equals(s.get("/api/v1/usage/acme/limits", ApiServer.ADMIN).text("/usageAsOf")));
            assertThat(limitDay(s)).containsExactly(1L, 1L);

            Response settled = s.post("/api/v1/usage/acme/reservations/" + id + "/settle", ApiServer.ADMIN,
                    "{\"eventId\":\"evt-1\"}");
            assertThat(settled.text("/eventId")).isEqualTo("evt-1");
            assertThat(limitDay(s)).as("settled after usage_as_of, released by the event log").containsExactly(1L, 0L);
        }
    }

    @Test
    void shouldFreeTheRoomOnReleaseAndOnExpiry() {
        try (ApiServer s = ApiServer.start("billing_reservations_release")) {
            s.applyCatalog(CATALOG);
            String released = reserve(s, "acme", reservation("r-1", ",\"quantity\":4")).text("/reservationId");
            String expiring = reserve(s, "acme", reservation("r-2", ",\"quantity\":5,\"ttlSeconds\":30"))
                    .text("/reservationId");
            assertThat(limitDay(s)).containsExactly(0L, 9L);
            assertThat(reserve(s, "acme", reservation("r-3", ",\"quantity\":2")).json().get("allowed").asBoolean())
                    .isFalse();

            assertThat(s.delete("/api/v1/usage/acme/reservations/" + released, ApiServer.ADMIN).status()).isEqualTo(204);
            assertThat(s.delete("/api/v1/usage/acme/reservations/" + released, ApiServer.ADMIN).status()).isEqualTo(204);
            assertThat(limitDay(s)).containsExactly(0L, 5L);
            Response settleReleased = s.post("/api/v1/usage/acme/reservations/" + released + "/settle",
                    ApiServer.ADMIN, "{}");
            assertThat(settleReleased.status()).isEqualTo(409);
            assertThat(settleReleased.text("/error/code")).isEqualTo("RESERVATION_RELEASED");

            s.clock.advance(Duration.ofSeconds(30));
            assertThat(limitDay(s)).as("expired at exactly its TTL, with no process involved").containsExactly(0L, 0L);
            Response settleExpired = s.post("/api/v1/usage/acme/reservations/" + expiring + "/settle",
                    ApiServer.ADMIN, "{}");
            assertThat(settleExpired.status()).isEqualTo(409);
            assertThat(settleExpired.text("/error/code")).isEqualTo("RESERVATION_EXPIRED");

            Response unknown = s.post("/api/v1/usage/acme/reservations/res_nope/settle", ApiServer.ADMIN, "{}");
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(unknown.text("/error/code")).isEqualTo("RESERVATION_NOT_FOUND");
            assertThat(s.post("/api/v1/usage/other/reservations/" + expiring + "/settle", ApiServer.ADMIN, "{}")
                    .status()).as("another org's reservation").isEqualTo(404);
            assertThat(s.delete("/api/v1/usage/acme/reservations/res_nope", ApiServer.ADMIN).status()).isEqualTo(404);
        }
    }

    @Test
    void shouldKeepHoldsAcrossARestart() {
        String url = ApiServer.freshDatabase("billing_reservations_restart");
        String id;
        try (ApiServer before = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            before.applyCatalog(CATALOG);
            id = reserve(before, "acme", reservation("kept", ",\"quantity\":10")).text("/reservationId");
        }
        try (ApiServer after = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            assertThat(limitDay(after)).containsExactly(0L, 10L);
            assertThat(reserve(after, "acme", reservation("more", "")).json().get("allowed").asBoolean()).isFalse();
            assertThat(reserve(after, "acme", reservation("kept", ",\"quantity\":10")).text("/reservationId"))
                    .isEqualTo(id);
            assertThat(after.delete("/api/v1/usage/acme/reservations/" + id, ApiServer.ADMIN).status()).isEqualTo(204);
            assertThat(reserve(after, "acme", reservation("more", "")).json().get("allowed").asBoolean()).isTrue();
        }
    }

    @Test
    void shouldRefuseBadInputNamingTheField() {
        try (ApiServer s = ApiServer.start("billing_reservations_input")) {
            s.applyCatalog(CATALOG);
            s.subscribe("users", "{\"planId\":\"per-user\"}");
            assertField(reserve(s, "acme", "{\"feature\":\"CHAT_MESSAGE\"}"), "requestId");
            assertField(reserve(s, "acme", "{\"requestId\":\"x\"}"), "feature");
            assertField(reserve(s, "acme", "{\"requestId\":\"x\",\"feature\":\"chat message\"}"), "feature");
            assertField(reserve(s, "acme", reservation("x", ",\"quantity\":-1")), "quantity");
            assertField(reserve(s, "acme", reservation("x", ",\"tokens\":1.5")), "tokens");
            assertField(reserve(s, "acme", reservation("x", ",\"costUsd\":\"ten\"")), "costUsd");
            assertField(reserve(s, "acme", reservation("x", ",\"ttlSeconds\":0")), "ttlSeconds");
            assertField(reserve(s, "acme", reservation("x", ",\"ttlSeconds\":86401")), "ttlSeconds");
            assertField(reserve(s, "acme", reservation("x", ",\"amount\":1")), "amount");
            assertField(reserve(s, "acme", reservation("x".repeat(300), "")), "requestId");
            assertField(reserve(s, "acme", "[1]"), "body");
            assertField(reserve(s, "users", reservation("y", "")), "userId");
            assertField(s.post("/api/v1/usage/acme/reservations/r/settle", ApiServer.ADMIN, "{\"eventId\":7}"),
                    "eventId");
            assertThat(s.db.fetchCount(s.db.selectFrom("metering.reservations"))).isZero();

            String[] readOnly = s.createKey("acme", "read");
            assertThat(s.post("/api/v1/usage/acme/reservations", readOnly[1], reservation("z", "")).status())
                    .isEqualTo(403);
            String[] checker = s.createKey("acme", "check");
            assertThat(s.post("/api/v1/usage/acme/reservations", checker[1], reservation("z", "")).status())
                    .isEqualTo(201);
            assertThat(s.post("/api/v1/usage/other/reservations", checker[1], reservation("z", "")).status())
                    .isEqualTo(403);
        }
    }

    private static void assertField(Response r, String field) {
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.text("/error/field")).as(r.body()).isEqualTo(field);
    }

    /** The daily limit's {@code [used, held]} as /limits shows them. */
    private static List<Long> limitDay(ApiServer s) {
        Response r = s.get("/api/v1/usage/acme/limits", ApiServer.ADMIN);
        return List.of(r.json().at("/limits/0/used").asLong(), r.json().at("/limits/0/held").asLong());
    }
}
