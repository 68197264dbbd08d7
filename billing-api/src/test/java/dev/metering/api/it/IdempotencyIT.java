package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.db.jooq.Tables.API_KEYS;
import static dev.metering.db.jooq.Tables.CREDIT_GRANTS;
import static dev.metering.db.jooq.Tables.WEBHOOK_ENDPOINTS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import dev.metering.api.store.IdempotencyRepository;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code Idempotency-Key} over real HTTP on the real PostgreSQL (docs/contract.md, Idempotency keys):
 * a repeat grants once and answers the same body, another body with the key is refused, no key
 * keeps today's behaviour, keys are per calling key, expire after 24 h, and a claim in progress
 * holds off a second request until its lease runs out.
 */
class IdempotencyIT {

    private static final String CREDIT = "{\"amountUsd\":\"5.00\",\"reason\":\"support goodwill\"}";
    private static final String JSON = "application/json";
    private static final String KEY = "Idempotency-Key";

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_idempotency");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void resetClock() {
        server.clock.set(ApiServer.T0);
    }

    private static Response credit(String org, String body, String... headers) {
        return server.post("/api/v1/orgs/" + org + "/credits", ADMIN, JSON, body, headers);
    }

    private static int grants(String org) {
        return server.db.fetchCount(CREDIT_GRANTS, CREDIT_GRANTS.ORG_ID.eq(org));
    }

    @Test
    void shouldGrantOnceAndAnswerTheSameBodyWhenACreditRequestIsRepeatedWithItsKey() {
        Response first = credit("idem-1", CREDIT, KEY, "grant-idem-1");
        server.clock.advance(Duration.ofMinutes(10));
        Response again = credit("idem-1", CREDIT, KEY, "grant-idem-1");

        assertThat(first.status()).as(first.body()).isEqualTo(201);
        assertThat(first.raw().headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(again.status()).isEqualTo(201);
        assertThat(again.body()).isEqualTo(first.body());
        assertThat(again.raw().headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(grants("idem-1")).isEqualTo(1);
        assertThat(server.get("/api/v1/orgs/idem-1/balance", ADMIN).text("/balanceUsd")).isEqualTo("5");
    }

    @Test
    void shouldRefuseTheSameKeyWithAnotherBodyAndGrantNothingMore() {
        assertThat(credit("idem-2", CREDIT, KEY, "grant-idem-2").status()).isEqualTo(201);

        Response other = credit("idem-2", "{\"amountUsd\":\"50.00\"}", KEY, "grant-idem-2");
        Response otherPath = credit("idem-2b", CREDIT, KEY, "grant-idem-2");

        assertThat(other.status()).isEqualTo(409);
        assertThat(other.text("/error/code")).isEqualTo("IDEMPOTENCY_KEY_REUSED");
        assertThat(other.text("/error/field")).isEqualTo("Idempotency-Key");
        assertThat(otherPath.status()).isEqualTo(409);
        assertThat(grants("idem-2")).isEqualTo(1);
        assertThat(grants("idem-2b")).isZero();
    }

    @Test
    void shouldGrantTwiceWithoutAKey() {
        assertThat(credit("idem-3", CREDIT).status()).isEqualTo(201);
        assertThat(credit("idem-3", CREDIT).status()).isEqualTo(201);

        assertThat(grants("idem-3")).isEqualTo(2);
        assertThat(server.get("/api/v1/orgs/idem-3/balance", ADMIN).text("/balanceUsd")).isEqualTo("10");
    }

    @Test
    void shouldRefuseAKeyThatIsTooLongOrNotPrintableAscii() {
        Response spaces = credit("idem-4", CREDIT, KEY, "has spaces");
        Response tooLong = credit("idem-4", CREDIT, KEY, "k".repeat(256));

        assertThat(spaces.status()).isEqualTo(400);
        assertThat(spaces.text("/error/field")).isEqualTo("Idempotency-Key");
        assertThat(tooLong.status()).isEqualTo(400);
        assertThat(tooLong.text("/error/field")).isEqualTo("Idempotency-Key");
        assertThat(grants("idem-4")).isZero();
    }

    @Test
    void shouldAuthenticateBeforeLookingAtTheKey() {
        Response r = server.post("/api/v1/orgs/idem-5/credits", "not-a-key", JSON, CREDIT, KEY, "has spaces");

        assertThat(r.status()).isEqualTo(401);
    }

    @Test
    void shouldKeepKeysApartPerCallingApiKey() {
        String otherAdmin = server.createKey(null, "admin")[1];

        Response byBootstrap = credit("idem-6", CREDIT, KEY, "shared-key");
        Response byOther = server.post("/api/v1/orgs/idem-6/credits", otherAdmin, JSON, CREDIT, KEY, "shared-key");

        assertThat(byBootstrap.status()).isEqualTo(201);
        assertThat(byOther.status()).isEqualTo(201);
        assertThat(byOther.raw().headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(grants("idem-6")).isEqualTo(2);
    }

    @Test
    void shouldRunTheRequestAgainOnceTheKeyExpiredAfter24Hours() {
        assertThat(credit("idem-7", CREDIT, KEY, "grant-idem-7").status()).isEqualTo(201);
        server.clock.advance(Duration.ofHours(23));
        assertThat(credit("idem-7", CREDIT, KEY, "grant-idem-7").raw().headers().firstValue("Idempotent-Replayed"))
                .hasValue("true");

        server.clock.advance(Duration.ofHours(1));
        Response after = credit("idem-7", "{\"amountUsd\":\"1.00\"}", KEY, "grant-idem-7");

        assertThat(after.status()).isEqualTo(201);
        assertThat(after.raw().headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(grants("idem-7")).isEqualTo(2);
    }

    @Test
    void shouldStoreNoFailedAnswerSoACorrectedRequestRunsWithTheSameKey() {
        Response bad = credit("idem-8", "{\"amountUsd\":\"-5\"}", KEY, "grant-idem-8");
        Response good = credit("idem-8", CREDIT, KEY, "grant-idem-8");

        assertThat(bad.status()).isEqualTo(400);
        assertThat(good.status()).isEqualTo(201);
        assertThat(good.raw().headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(grants("idem-8")).isEqualTo(1);
    }

    @Test
    void shouldAnswerInProgressWhileAClaimIsHeldAndRunOnceItsLeaseRanOut() throws Exception {
        // the state a request leaves while it runs (or when its instance died before answering)
        IdempotencyRepository repository = new IdempotencyRepository(server.db);
        assertThat(repository.claim("bootstrap-admin", "grant-idem-9", hash("POST /api/v1/orgs/idem-9/credits\n" + CREDIT),
                server.clock.instant(), Duration.ofHours(24), Duration.ofMinutes(5)))
                .isInstanceOf(IdempotencyRepository.Run.class);

        Response busy = credit("idem-9", CREDIT, KEY, "grant-idem-9");
        server.clock.advance(Duration.ofMinutes(5));
        Response taken = credit("idem-9", CREDIT, KEY, "grant-idem-9");
        Response replayed = credit("idem-9", CREDIT, KEY, "grant-idem-9");

        assertThat(busy.status()).isEqualTo(409);
        assertThat(busy.text("/error/code")).isEqualTo("IDEMPOTENCY_KEY_IN_PROGRESS");
        assertThat(taken.status()).isEqualTo(201);
        assertThat(replayed.raw().headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(grants("idem-9")).isEqualTo(1);
    }

    @Test
    void shouldLetExactlyOneOfTwoConcurrentClaimsRun() {
        IdempotencyRepository repository = new IdempotencyRepository(server.db);
        byte[] hash = hash("POST /x\n{}");

        var first = repository.claim("k1", "concurrent", hash, ApiServer.T0, Duration.ofHours(24), Duration.ofMinutes(5));
        var second = repository.claim("k1", "concurrent", hash, ApiServer.T0, Duration.ofHours(24), Duration.ofMinutes(5));
        repository.complete("k1", "concurrent", 201, "{\"id\":1}");
        var third = repository.claim("k1", "concurrent", hash, ApiServer.T0, Duration.ofHours(24), Duration.ofMinutes(5));

        assertThat(first).isInstanceOf(IdempotencyRepository.Run.class);
        assertThat(second).isInstanceOf(IdempotencyRepository.InProgress.class);
        assertThat(third).isEqualTo(new IdempotencyRepository.Replay(201, "{\"id\":1}"));
    }

    @Test
    void shouldReplayAnApiKeyCreationWithoutTheSecretAndCreateOneKey() {
        String body = "{\"orgId\":\"idem-10\",\"scopes\":[\"read\"]}";
        Response first = server.post("/api/v1/api-keys", ADMIN, JSON, body, KEY, "key-idem-10");
        Response again = server.post("/api/v1/api-keys", ADMIN, JSON, body, KEY, "key-idem-10");

        assertThat(first.status()).isEqualTo(201);
        assertThat(first.text("/key")).isNotBlank();
        assertThat(again.status()).isEqualTo(201);
        assertThat(again.raw().headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(again.text("/id")).isEqualTo(first.text("/id"));
        assertThat(again.json().has("key")).isTrue();
        assertThat(again.text("/key")).isNull();
        assertThat(again.body()).doesNotContain(first.text("/key"));
        assertThat(server.db.fetchCount(API_KEYS, API_KEYS.ORG_ID.eq("idem-10"))).isEqualTo(1);
        assertThat(server.get("/api/v1/orgs/idem-10/balance", first.text("/key")).status()).isEqualTo(200);
    }

    @Test
    void shouldReplayAWebhookCreationWithoutTheSecret() {
        String body = "{\"url\":\"https://example.com/idem-hook\",\"events\":[\"balance.low\"]}";
        Response first = server.post("/api/v1/webhooks", ADMIN, JSON, body, KEY, "hook-idem-11");
        Response again = server.post("/api/v1/webhooks", ADMIN, JSON, body, KEY, "hook-idem-11");

        assertThat(first.status()).as(first.body()).isEqualTo(201);
        assertThat(again.status()).isEqualTo(201);
        assertThat(again.text("/id")).isEqualTo(first.text("/id"));
        assertThat(again.text("/secret")).isNull();
        assertThat(server.db.fetchCount(WEBHOOK_ENDPOINTS, WEBHOOK_ENDPOINTS.URL.eq("https://example.com/idem-hook")))
                .isEqualTo(1);
    }

    @Test
    void shouldReplayACreditImportButIgnoreTheKeyOnADryRun() {
        String csv = "orgId,amountUsd,grantId\nidem-12,3,spring\n";
        Response dry = server.post("/api/v1/credits/import?dryRun=true", ADMIN, "text/csv", csv, KEY, "import-idem-12");
        Response real = server.post("/api/v1/credits/import", ADMIN, "text/csv", csv, KEY, "import-idem-12");
        Response again = server.post("/api/v1/credits/import", ADMIN, "text/csv", csv, KEY, "import-idem-12");

        assertThat(dry.status()).isEqualTo(200);
        assertThat(real.status()).as(real.body()).isEqualTo(200);
        assertThat(real.json().get("granted").asInt()).isEqualTo(1);
        assertThat(again.raw().headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(again.body()).isEqualTo(real.body());
        assertThat(grants("idem-12")).isEqualTo(1);
    }

    @Test
    void shouldReplayASubscriptionImport() {
        server.applyCatalog("""
                defaultPlan: free
                plans:
                  - id: free
                    limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 50 }]
                """);
        String csv = "orgId,planId\nidem-13,free\n";
        Response real = server.post("/api/v1/subscriptions/import", ADMIN, "text/csv", csv, KEY, "subs-idem-13");
        Response again = server.post("/api/v1/subscriptions/import", ADMIN, "text/csv", csv, KEY, "subs-idem-13");

        assertThat(real.status()).as(real.body()).isEqualTo(200);
        assertThat(real.json().get("created").asInt()).isEqualTo(1);
        assertThat(again.body()).isEqualTo(real.body());
        assertThat(again.raw().headers().firstValue("Idempotent-Replayed")).hasValue("true");
    }

    private static byte[] hash(String request) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(request.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
