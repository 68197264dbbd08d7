package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The account cache off the check path: aging entries of orgs in use are reloaded in the
 * background, in batches (subscription, overrides and grants of many orgs at once), so a change
 * that no invalidation announced is seen after the reload age without a check ever waiting for
 * the database; and check outcome counters reach {@code check_outcomes_daily} in one statement.
 */
class AccountCacheIT {

    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
              - id: team
                prepaid: true
                limits:
                  - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 10 }
            """;

    @Test
    void shouldReloadAgingAccountsInTheBackgroundWithOverridesAndGrants() {
        try (ApiServer server = ApiServer.start("billing_account_cache")) {
            server.applyCatalog(CATALOG);
            server.subscribe("org-a", "{\"planId\":\"team\",\"overrides\":{\"daily\":5}}");
            server.subscribe("org-b", "{\"planId\":\"team\"}");
            assertThat(server.post("/api/v1/orgs/org-a/credits", ApiServer.ADMIN, "{\"amountUsd\":\"2.5\"}").status())
                    .isEqualTo(201);
            server.api.service().cache().refresh(); // the writes' revisions are handled: no invalidation pending
            assertThat(server.check("org-a", "CHAT_MESSAGE", null).json().at("/limits/0/limit").asLong()).isEqualTo(5);
            assertThat(server.check("org-a", "CHAT_MESSAGE", null).text("/balanceUsd")).isEqualTo("2.5");
            assertThat(server.check("org-b", "CHAT_MESSAGE", null).json().at("/limits/0/limit").asLong()).isEqualTo(10);

            // changes no revision announces (as if an invalidation had been missed)
            server.db.execute("UPDATE metering.subscription_overrides SET max = 7 WHERE org_id = 'org-a'");
            server.db.execute("UPDATE metering.credit_grants SET amount_usd = 4 WHERE org_id = 'org-a'");
            server.db.execute("INSERT INTO metering.subscription_overrides VALUES ('org-b', 'daily', 3)");
            server.api.service().cache().refresh();
            assertThat(server.check("org-a", "CHAT_MESSAGE", null).json().at("/limits/0/limit").asLong()).isEqualTo(5);

            // past the reload age (half the TTL): the background refresh reloads both orgs in one batch
            server.clock.advance(Duration.ofSeconds(31));
            server.api.service().cache().refresh();
            Response a = server.check("org-a", "CHAT_MESSAGE", null);
            assertThat(a.json().at("/limits/0/limit").asLong()).isEqualTo(7);
            assertThat(a.text("/balanceUsd")).isEqualTo("4");
            assertThat(server.check("org-b", "CHAT_MESSAGE", null).json().at("/limits/0/limit").asLong()).isEqualTo(3);
        }
    }

    @Test
    void shouldAddCheckOutcomesOfEveryInstanceInOneRowPerDayOrgFeatureOutcomeAndCode() {
        String org = "o'1, \"q\" {x}"; // quotes, comma, braces: array literal syntax is plain data
        String url = ApiServer.freshDatabase("billing_check_outcomes");
        ApiServer a = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
        try (a) {
            a.applyCatalog("defaultPlan: free\nplans:\n  - id: free\n    limits: [{ id: z, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 0 }]\n");
            assertThat(a.check(org, "CHAT_MESSAGE", null).json().get("allowed").asBoolean()).isFalse();
            a.check(org, "CHAT_MESSAGE", null);
            a.check(org, "EMBEDDING", null);
            try (ApiServer b = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
                assertThat(b.check(org, "EMBEDDING", null).json().get("allowed").asBoolean()).isTrue();
            }
        }
        // each instance flushed its counters on close; the second one's added to the first one's
        List<String> rows = a.db.fetch("SELECT day, org_id, feature, outcome, code, checks "
                        + "FROM metering.check_outcomes_daily ORDER BY feature")
                .map(r -> r.get(0) + "|" + r.get(1) + "|" + r.get(2) + "|" + r.get(3) + "|" + r.get(4) + "|" + r.get(5));
        assertThat(rows).containsExactly(
                "2026-11-22|" + org + "|CHAT_MESSAGE|blocked|DAILY_MESSAGE_LIMIT_EXCEEDED|2",
                "2026-11-22|" + org + "|EMBEDDING|allowed||2");
    }
}
