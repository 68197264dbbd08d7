package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two real imports of the same orgs started at once, on one API instance and on two sharing the
 * real PostgreSQL: they are serialized, so each answer counts what it changed (the counts sum to
 * the file's rows) and the later one answers unchanged, or replaced when its rows differ.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConcurrentImportsIT {

    private static final int ORGS = 2_000;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private ApiServer first;
    private ApiServer second;
    private ExecutorService threads;

    @BeforeAll
    void start() {
        first = ApiServer.start("billing_concurrent_imports");
        first.applyCatalog(ApiServer.FREE_AND_PRO);
        second = ApiServer.start(first.jdbcUrl, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
        threads = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    void stop() {
        threads.shutdownNow();
        second.close();
        first.close();
    }

    private static String subscriptions(String prefix, String plan) {
        StringBuilder b = new StringBuilder("orgId,planId,periodStart,periodEnd\n");
        for (int i = 0; i < ORGS; i++) {
            b.append(prefix).append(i).append(',').append(plan).append(",2026-11-01,2026-12-01\n");
        }
        return b.toString();
    }

    private static String credits(String prefix) {
        StringBuilder b = new StringBuilder("orgId,amountUsd,grantId\n");
        for (int i = 0; i < ORGS; i++) {
            b.append(prefix).append(i).append(",5.00,launch-5usd\n");
        }
        return b.toString();
    }

    /** Both posts sent together from two threads; the answers in the order given. */
    private List<Response> atOnce(ApiServer a, String pathA, String bodyA, ApiServer b, String pathB, String bodyB)
            throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        Future<Response> ra = threads.submit(() -> {
            go.await();
            return a.post(pathA, ADMIN, "text/csv", bodyA, TIMEOUT);
        });
        Future<Response> rb = threads.submit(() -> {
            go.await();
            return b.post(pathB, ADMIN, "text/csv", bodyB, TIMEOUT);
        });
        go.countDown();
        List<Response> out = List.of(ra.get(3, TimeUnit.MINUTES), rb.get(3, TimeUnit.MINUTES));
        out.forEach(r -> assertThat(r.status()).as(r.body()).isEqualTo(200));
        return out;
    }

    private static String counts(Response r, String... fields) {
        StringBuilder b = new StringBuilder();
        for (String f : fields) {
            b.append(f).append('=').append(r.json().get(f).asText()).append(' ');
        }
        return b.toString().trim();
    }

    private long count(String sql) {
        return first.db.fetchOne(sql).get(0, Long.class);
    }

    @Test
    void shouldReportEachOrgCreatedByExactlyOneOfTwoImportsOfTheSameFileOnOneInstance() throws Exception {
        String csv = subscriptions("same-", "pro");

        List<Response> answers = atOnce(first, "/api/v1/subscriptions/import", csv,
                first, "/api/v1/subscriptions/import", csv);

        assertThat(answers).extracting(r -> counts(r, "valid", "created", "replaced", "unchanged"))
                .containsExactlyInAnyOrder("valid=2000 created=2000 replaced=0 unchanged=0",
                        "valid=2000 created=0 replaced=0 unchanged=2000");
        assertThat(count("SELECT count(*) FROM metering.subscriptions WHERE org_id LIKE 'same-%'")).isEqualTo(ORGS);
    }

    @Test
    void shouldReportTheLaterOfTwoDifferingImportsOnTwoInstancesAsReplacingTheEarlier() throws Exception {
        List<Response> answers = atOnce(first, "/api/v1/subscriptions/import", subscriptions("diff-", "pro"),
                second, "/api/v1/subscriptions/import", subscriptions("diff-", "free"));

        int later = answers.get(0).json().get("created").asInt() == 0 ? 0 : 1;
        assertThat(counts(answers.get(later), "created", "replaced", "unchanged"))
                .isEqualTo("created=0 replaced=2000 unchanged=0");
        assertThat(counts(answers.get(1 - later), "created", "replaced", "unchanged"))
                .isEqualTo("created=2000 replaced=0 unchanged=0");
        String laterPlan = later == 0 ? "pro" : "free";
        assertThat(count("SELECT count(*) FROM metering.subscriptions WHERE org_id LIKE 'diff-%' AND plan_id = '"
                + laterPlan + "'")).isEqualTo(ORGS);
    }

    @Test
    void shouldReportEachGrantMadeByExactlyOneOfTwoCreditImportsOnTwoInstances() throws Exception {
        String csv = credits("credit-");

        List<Response> answers = atOnce(first, "/api/v1/credits/import", csv, second, "/api/v1/credits/import", csv);

        assertThat(answers).extracting(r -> counts(r, "valid", "granted", "unchanged", "grantedUsd"))
                .containsExactlyInAnyOrder("valid=2000 granted=2000 unchanged=0 grantedUsd=10000",
                        "valid=2000 granted=0 unchanged=2000 grantedUsd=0");
        assertThat(count("SELECT count(*) FROM metering.credit_grants WHERE grant_id = 'launch-5usd'")).isEqualTo(ORGS);
    }
}
