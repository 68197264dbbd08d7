package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import dev.metering.api.plan.ExampleCatalogs;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The auth matrix (docs/contract.md, Errors and auth) over real HTTP: no key, bad key, another org's key, wrong scope, admin. */
class AuthIT {

    private static ApiServer server;
    private static String acmeCheckKey;
    private static String acmeReadKey;
    private static String globexAllKey;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_auth");
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_000));
        acmeCheckKey = server.createKey("acme", "check")[1];
        acmeReadKey = server.createKey("acme", "read")[1];
        globexAllKey = server.createKey("globex", "ingest", "read", "check")[1];
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static final String CHECK = "/api/v1/usage/acme/check/CHAT_MESSAGE";
    private static final String LIMITS = "/api/v1/usage/acme/limits";

    @Test
    void shouldRefuseRequestsWithoutAKeyWith401() {
        Response r = server.get(CHECK, null);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.text("/error/code")).isEqualTo("UNAUTHORIZED");
        assertThat(r.raw().headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
    }

    @Test
    void shouldRefuseUnknownKeysWith401() {
        assertThat(server.get(CHECK, "mk_not-a-real-key").status()).isEqualTo(401);
        assertThat(server.get(CHECK, ADMIN + "x").status()).isEqualTo(401);
    }

    @Test
    void shouldRefuseAnotherOrgsKeyWith403() {
        Response r = server.get(CHECK, globexAllKey);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.text("/error/code")).isEqualTo("FORBIDDEN");
        assertThat(r.text("/error/message")).isEqualTo("this key belongs to another org");
        assertThat(server.get("/api/v1/orgs/acme/balance", globexAllKey).status()).isEqualTo(403);
    }

    @Test
    void shouldRefuseAKeyLackingTheScopeWith403() {
        assertThat(server.get(LIMITS, acmeCheckKey).status()).isEqualTo(403);
        Response r = server.get(CHECK, acmeReadKey);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.text("/error/message")).isEqualTo("this key lacks the 'check' scope");
    }

    @Test
    void shouldLetOrgKeysUseTheirOwnScopesOnly() {
        assertThat(server.get(CHECK, acmeCheckKey).status()).isEqualTo(200);
        assertThat(server.get(LIMITS, acmeReadKey).status()).isEqualTo(200);
        assertThat(server.get("/api/v1/orgs/acme/balance", acmeReadKey).status()).isEqualTo(200);
        assertThat(server.get("/api/v1/plans", acmeReadKey).status()).isEqualTo(200);
        for (String adminOnly : List.of("/api/v1/plans")) {
            assertThat(server.put(adminOnly, globexAllKey, "application/yaml", "defaultPlan: x").status()).isEqualTo(403);
        }
        assertThat(server.putJson("/api/v1/orgs/globex/subscription", globexAllKey, "{\"planId\":\"PRO\"}").status())
                .isEqualTo(403);
        assertThat(server.post("/api/v1/orgs/globex/credits", globexAllKey, "{\"amountUsd\":\"1\"}").status()).isEqualTo(403);
        assertThat(server.post("/api/v1/api-keys", globexAllKey, "{\"orgId\":\"globex\",\"scopes\":[\"read\"]}").status())
                .isEqualTo(403);
    }

    @Test
    void shouldLetAdminKeysDoEverything() {
        assertThat(server.get(CHECK, ADMIN).status()).isEqualTo(200);
        String[] admin2 = server.createKey(null, "admin");
        assertThat(server.get(LIMITS, admin2[1]).status()).isEqualTo(200);
        assertThat(server.putJson("/api/v1/orgs/acme/subscription", admin2[1], "{\"planId\":\"PRO\"}").status())
                .isIn(200, 201);
    }

    @Test
    void shouldStoreOnlyTheSha256OfKeysAndShowTheKeyOnce() throws Exception {
        Response created = server.post("/api/v1/api-keys", ADMIN, "{\"orgId\":\"acme\",\"scopes\":[\"check\",\"read\"]}");
        assertThat(created.status()).isEqualTo(201);
        String id = created.text("/id");
        String key = created.text("/key");
        assertThat(created.json().get("scopes").toString()).isEqualTo("[\"check\",\"read\"]");
        assertThat(created.text("/orgId")).isEqualTo("acme");
        byte[] stored = server.db.fetchOne("select key_hash from metering.api_keys where id = ?", id).get(0, byte[].class);
        assertThat(stored).isEqualTo(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        assertThat(server.db.fetchCount(server.db.selectFrom("metering.api_keys")
                .where("position(? in encode(key_hash, 'escape')) > 0", key))).isZero();
    }

    @Test
    void shouldRefuseARevokedKeyWith401() {
        String[] k = server.createKey("acme", "check");
        assertThat(server.get(CHECK, k[1]).status()).isEqualTo(200);
        assertThat(server.delete("/api/v1/api-keys/" + k[0], ADMIN).status()).isEqualTo(204);
        assertThat(server.get(CHECK, k[1]).status()).isEqualTo(401);
        assertThat(server.delete("/api/v1/api-keys/" + k[0], ADMIN).status()).isEqualTo(404);
    }
}
