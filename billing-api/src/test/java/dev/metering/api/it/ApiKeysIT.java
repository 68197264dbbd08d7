package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.db.jooq.Tables.API_KEYS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.auth.ApiKeys;
import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Key management over real HTTP on the real PostgreSQL (docs/contract.md, API keys): listing
 * without secrets, expiry, rotation with a grace period, revocation, last use. The test clock
 * only moves forward, so every test works relative to the time it starts at.
 */
class ApiKeysIT {

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_api_keys");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Response me(String key) {
        return server.get("/api/v1/me", key);
    }

    private static Response create(String body) {
        return server.post("/api/v1/api-keys", ADMIN, body);
    }

    @Test
    void shouldListKeysWithTheirDatesButNeverTheSecretOrItsHash() {
        Instant now = server.clock.instant();
        String[] a = server.createKey("list-acme", "check", "read");
        String[] b = server.createKey("list-globex", "ingest");
        Response r = server.get("/api/v1/api-keys?limit=1000", ADMIN);
        assertThat(r.status()).isEqualTo(200);
        for (String[] k : List.of(a, b)) {
            byte[] hash = ApiKeys.sha256(k[1]);
            assertThat(r.body()).doesNotContain(k[1]).doesNotContain(k[1].substring(3))
                    .doesNotContainIgnoringCase(HexFormat.of().formatHex(hash))
                    .doesNotContain(Base64.getEncoder().encodeToString(hash));
        }
        JsonNode item = item(r.json().get("items"), a[0]);
        assertThat(fields(item)).containsExactly("id", "orgId", "scopes", "createdAt", "expiresAt", "lastUsedAt",
                "revokedAt", "replacedBy");
        assertThat(item.get("orgId").asText()).isEqualTo("list-acme");
        assertThat(item.get("scopes").toString()).isEqualTo("[\"check\",\"read\"]");
        assertThat(Instant.parse(item.get("createdAt").asText())).isEqualTo(now);
        assertThat(item.get("expiresAt").isNull()).isTrue();
        assertThat(item.get("lastUsedAt").isNull()).isTrue();
        assertThat(item.get("revokedAt").isNull()).isTrue();

        Response one = server.get("/api/v1/api-keys/" + b[0], ADMIN);
        assertThat(one.status()).isEqualTo(200);
        assertThat(one.body()).doesNotContain(b[1]);
        assertThat(one.text("/orgId")).isEqualTo("list-globex");
        assertThat(server.get("/api/v1/api-keys/key_nope", ADMIN).status()).isEqualTo(404);
        assertThat(server.get("/api/v1/api-keys", a[1]).status()).isEqualTo(403);
        assertThat(server.get("/api/v1/api-keys/" + a[0], a[1]).status()).isEqualTo(403);
    }

    @Test
    void shouldFilterByOrgAndPageWithACursor() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(server.createKey("page-acme", "read")[0]);
        }
        server.createKey("page-other", "read");
        List<String> seen = new ArrayList<>();
        String next = null;
        int pages = 0;
        do {
            Response r = server.get("/api/v1/api-keys?orgId=page-acme&limit=2" + (next == null ? "" : "&after=" + next), ADMIN);
            assertThat(r.status()).isEqualTo(200);
            r.json().get("items").forEach(i -> {
                assertThat(i.get("orgId").asText()).isEqualTo("page-acme");
                seen.add(i.get("id").asText());
            });
            next = r.text("/next");
            pages++;
        } while (next != null);
        assertThat(pages).isEqualTo(3);
        assertThat(seen).isSorted().containsExactlyInAnyOrderElementsOf(ids);
        assertThat(server.get("/api/v1/api-keys?after=%25%25", ADMIN).text("/error/field")).isEqualTo("after");
        assertThat(server.get("/api/v1/api-keys?limit=0", ADMIN).text("/error/field")).isEqualTo("limit");
    }

    @Test
    void shouldRefuseAKeyOnceItExpiredWithApiKeyExpired() {
        Instant now = server.clock.instant();
        Instant expiry = now.plus(Duration.ofHours(1));
        Response created = create("{\"orgId\":\"exp-acme\",\"scopes\":[\"read\"],\"expiresAt\":\"" + expiry + "\"}");
        assertThat(created.status()).isEqualTo(201);
        assertThat(Instant.parse(created.text("/expiresAt"))).isEqualTo(expiry);
        String key = created.text("/key");
        assertThat(me(key).status()).isEqualTo(200);

        server.clock.set(expiry.minusMillis(1));
        assertThat(me(key).status()).isEqualTo(200);
        server.clock.set(expiry);
        Response r = me(key);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.text("/error/code")).isEqualTo("API_KEY_EXPIRED");
        assertThat(r.text("/error/message")).isEqualTo("the API key " + created.text("/id") + " expired at " + expiry);
        assertThat(Instant.parse(server.get("/api/v1/api-keys/" + created.text("/id"), ADMIN).text("/expiresAt")))
                .isEqualTo(expiry);
    }

    @Test
    void shouldRefuseAnExpiryInThePastOrBeyondFiveYears() {
        Instant now = server.clock.instant();
        for (String bad : List.of("\"" + now + "\"", "\"" + now.minusSeconds(1) + "\"",
                "\"" + now.plus(Duration.ofDays(5 * 366)) + "\"", "\"tomorrow\"")) {
            Response r = create("{\"orgId\":\"exp-bad\",\"scopes\":[\"read\"],\"expiresAt\":" + bad + "}");
            assertThat(r.status()).as(bad).isEqualTo(400);
            assertThat(r.text("/error/field")).isEqualTo("expiresAt");
        }
        assertThat(server.get("/api/v1/api-keys?orgId=exp-bad", ADMIN).json().get("items")).isEmpty();
    }

    @Test
    void shouldKeepTheOldKeyValidDuringTheGraceOfARotationAndNotAfter() {
        Instant now = server.clock.instant();
        String[] old = server.createKey("rot-acme", "check", "read");
        assertThat(me(old[1]).status()).isEqualTo(200);

        Response r = server.post("/api/v1/api-keys/" + old[0] + "/rotate", ADMIN, "{\"graceSeconds\":3600}");
        assertThat(r.status()).isEqualTo(201);
        String newId = r.text("/id");
        String newKey = r.text("/key");
        assertThat(newId).isNotEqualTo(old[0]);
        assertThat(newKey).startsWith("mk_").isNotEqualTo(old[1]);
        assertThat(r.text("/orgId")).isEqualTo("rot-acme");
        assertThat(r.json().get("scopes").toString()).isEqualTo("[\"check\",\"read\"]");
        assertThat(r.text("/previous/id")).isEqualTo(old[0]);
        assertThat(r.text("/previous/replacedBy")).isEqualTo(newId);
        assertThat(Instant.parse(r.text("/previous/expiresAt"))).isEqualTo(now.plusSeconds(3600));

        // the old key was cached before the rotation: it must follow its new expiry at once
        assertThat(me(old[1]).status()).isEqualTo(200);
        assertThat(me(newKey).text("/keyId")).isEqualTo(newId);
        assertThat(me(newKey).text("/orgId")).isEqualTo("rot-acme");
        server.clock.set(now.plusSeconds(3599));
        assertThat(me(old[1]).status()).isEqualTo(200);
        server.clock.set(now.plusSeconds(3600));
        assertThat(me(old[1]).text("/error/code")).isEqualTo("API_KEY_EXPIRED");
        assertThat(me(newKey).status()).isEqualTo(200);
        assertThat(server.get("/api/v1/usage/rot-acme/check/CHAT_MESSAGE", newKey).status()).isEqualTo(200);

        // an expired key cannot be rotated again, a rotated one neither
        assertThat(server.post("/api/v1/api-keys/" + old[0] + "/rotate", ADMIN, "").status()).isEqualTo(404);
        Response again = server.post("/api/v1/api-keys/" + newId + "/rotate", ADMIN, "{\"graceSeconds\":60}");
        assertThat(again.status()).isEqualTo(201);
        Response twice = server.post("/api/v1/api-keys/" + newId + "/rotate", ADMIN, "{\"graceSeconds\":60}");
        assertThat(twice.status()).isEqualTo(409);
        assertThat(twice.text("/error/message")).contains(again.text("/id"));
    }

    @Test
    void shouldGiveARotationTwentyFourHoursOfGraceByDefaultAndBoundIt() {
        Instant now = server.clock.instant();
        String[] old = server.createKey("rot-default", "read");
        Response r = server.post("/api/v1/api-keys/" + old[0] + "/rotate", ADMIN, "");
        assertThat(r.status()).isEqualTo(201);
        assertThat(Instant.parse(r.text("/previous/expiresAt"))).isEqualTo(now.plus(Duration.ofHours(24)));
        assertThat(r.json().get("expiresAt").isNull()).isTrue();

        String[] other = server.createKey("rot-default", "read");
        for (String bad : List.of("{\"graceSeconds\":-1}", "{\"graceSeconds\":2592001}", "{\"graceSeconds\":1.5}",
                "{\"graceSeconds\":\"60\"}", "{\"grace\":60}")) {
            Response b = server.post("/api/v1/api-keys/" + other[0] + "/rotate", ADMIN, bad);
            assertThat(b.status()).as(bad).isEqualTo(400);
        }
        // the old key's own, sooner expiry is kept
        Instant soon = now.plusSeconds(600);
        Response shortLived = create("{\"orgId\":\"rot-default\",\"scopes\":[\"read\"],\"expiresAt\":\"" + soon + "\"}");
        Response r2 = server.post("/api/v1/api-keys/" + shortLived.text("/id") + "/rotate", ADMIN, "{\"graceSeconds\":3600}");
        assertThat(Instant.parse(r2.text("/previous/expiresAt"))).isEqualTo(soon);
        assertThat(server.post("/api/v1/api-keys/key_nope/rotate", ADMIN, "").status()).isEqualTo(404);
    }

    @Test
    void shouldRefuseARevokedKeyAtOnceOnThisInstance() {
        String[] k = server.createKey("rev-acme", "read");
        assertThat(me(k[1]).status()).isEqualTo(200);
        assertThat(server.delete("/api/v1/api-keys/" + k[0], ADMIN).status()).isEqualTo(204);
        Response r = me(k[1]);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.text("/error/code")).isEqualTo("UNAUTHORIZED");
        Response listed = server.get("/api/v1/api-keys/" + k[0], ADMIN);
        assertThat(Instant.parse(listed.text("/revokedAt"))).isEqualTo(server.clock.instant());
        assertThat(server.post("/api/v1/api-keys/" + k[0] + "/rotate", ADMIN, "").status()).isEqualTo(404);
    }

    @Test
    void shouldRecordTheLastUseAtMostOnceAMinuteInTheBackground() {
        Instant t = server.clock.instant();
        String[] k = server.createKey("used-acme", "read");
        for (int i = 0; i < 5; i++) {
            assertThat(me(k[1]).status()).isEqualTo(200);
        }
        assertThat(Instant.parse(server.get("/api/v1/api-keys/" + k[0], ADMIN).text("/lastUsedAt"))).isEqualTo(t);
        await().atMost(Duration.ofSeconds(15)).until(() -> t.equals(lastUsedInDatabase(k[0])));

        server.clock.set(t.plusSeconds(59));
        assertThat(me(k[1]).status()).isEqualTo(200);
        assertThat(Instant.parse(server.get("/api/v1/api-keys/" + k[0], ADMIN).text("/lastUsedAt"))).isEqualTo(t);

        server.clock.set(t.plusSeconds(60));
        assertThat(me(k[1]).status()).isEqualTo(200);
        assertThat(Instant.parse(server.get("/api/v1/api-keys/" + k[0], ADMIN).text("/lastUsedAt")))
                .isEqualTo(t.plusSeconds(60));
        await().atMost(Duration.ofSeconds(15)).until(() -> t.plusSeconds(60).equals(lastUsedInDatabase(k[0])));
    }

    private static Instant lastUsedInDatabase(String id) {
        OffsetDateTime v = server.db.select(API_KEYS.LAST_USED_AT).from(API_KEYS).where(API_KEYS.ID.eq(id)).fetchOne().value1();
        return v == null ? null : v.toInstant();
    }

    private static JsonNode item(JsonNode items, String id) {
        for (JsonNode i : items) {
            if (i.get("id").asText().equals(id)) {
                return i;
            }
        }
        throw new AssertionError("no key " + id + " in " + items);
    }

    private static List<String> fields(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
