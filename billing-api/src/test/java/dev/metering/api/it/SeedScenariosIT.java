package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.api.it.ApiServer.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import dev.metering.api.plan.ExampleCatalogs;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** Every seed system's example catalog over real HTTP and real PostgreSQL, usage written as the sink writes it. */
class SeedScenariosIT {

    private ApiServer server;

    @BeforeEach
    void start(TestInfo test) {
        // a database per scenario: each applies its own catalog
        server = ApiServer.start("billing_seed_" + Integer.toHexString(test.getTestMethod().orElseThrow().getName().hashCode()));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void seed000TrialShouldAllowThe200thMessageAndBlockThe201stUntilUtcMidnight() {
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_000));
        server.subscribe("biz-000", "{\"planId\":\"TRIAL\",\"periodStart\":\"2026-11-15T00:00:00Z\",\"periodEnd\":\"2026-12-15T00:00:00Z\"}");
        server.sink.messages("biz-000", "u1", Instant.parse("2026-11-22T09:00:00Z"), 150)
                .messages("biz-000", "u2", Instant.parse("2026-11-22T18:05:00Z"), 49)
                .messages("biz-000", "u1", Instant.parse("2026-11-21T22:00:00Z"), 300);

        Response the200th = server.check("biz-000", "CHAT_MESSAGE", null);
        assertThat(the200th.status()).isEqualTo(200);
        assertThat(the200th.json().get("allowed").asBoolean()).isTrue();
        assertThat(the200th.json().get("code").isNull()).isTrue();
        assertThat(the200th.json().at("/limits/0/used").asLong()).isEqualTo(199);
        assertThat(the200th.json().at("/limits/0/remaining").asLong()).isEqualTo(1);
        assertThat(server.check("biz-000", "CHAT_MESSAGE", "quantity=2").json().get("allowed").asBoolean()).isFalse();

        server.sink.messages("biz-000", "u2", Instant.parse("2026-11-22T18:20:00Z"), 1);
        Response the201st = server.check("biz-000", "CHAT_MESSAGE", "quantity=1");
        assertThat(the201st.status()).isEqualTo(200);
        assertThat(the201st.json().get("allowed").asBoolean()).isFalse();
        assertThat(the201st.text("/code")).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
        assertThat(the201st.json().get("suggestedStatus").asInt()).isEqualTo(429);
        assertThat(the201st.text("/limits/0/resetsAt")).isEqualTo("2026-11-23T00:00:00Z");
        assertThat(the201st.json().get("retryAfterSeconds").asLong()).isEqualTo(19_800);
        assertThat(the201st.text("/mode")).isEqualTo("enforce");
        assertThat(the201st.text("/plan")).isEqualTo("TRIAL");
        assertThat(the201st.text("/usageAsOf")).isEqualTo("2026-11-22T18:30:00Z");
        assertThat(the201st.json().get("stale").asBoolean()).isFalse();
        assertThat(the201st.json().at("/limits/1/id").asText()).isEqualTo("monthly-tokens");
        assertThat(the201st.text("/limits/1/resetsAt")).isEqualTo("2026-12-15T00:00:00Z");
    }

    @Test
    void seed000ShouldBlockWhenMonthlyTokensAreUsedUp() {
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_000));
        server.subscribe("biz-tokens", "{\"planId\":\"TRIAL\",\"periodStart\":\"2026-11-15T00:00:00Z\",\"periodEnd\":\"2026-12-15T00:00:00Z\"}");
        server.sink.usage("biz-tokens", "u1", "CHAT_MESSAGE", Instant.parse("2026-11-16T10:00:00Z"), 1, 1, 60_000, 39_999, "0");
        assertThat(server.check("biz-tokens", "CHAT_MESSAGE", "tokens=1").json().get("allowed").asBoolean()).isTrue();
        Response over = server.check("biz-tokens", "CHAT_MESSAGE", "tokens=2");
        assertThat(over.json().get("allowed").asBoolean()).isFalse();
        assertThat(over.text("/code")).isEqualTo("MONTHLY_TOKEN_LIMIT_EXCEEDED");
    }

    @Test
    void seed001FreeShouldBlockTheEleventhMessageOfAUserInAnHourWhileAnotherUserIsAllowed() {
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_001));
        server.sink.messages("team-001", "alice", Instant.parse("2026-11-22T18:01:00Z"), 10)
                .messages("team-001", "bob", Instant.parse("2026-11-22T18:02:00Z"), 2);

        Response alice = server.check("team-001", "CHAT_MESSAGE", "userId=alice&conversationId=c-1");
        assertThat(alice.json().get("allowed").asBoolean()).isFalse();
        assertThat(alice.text("/code")).isEqualTo("HOURLY_MESSAGE_LIMIT_EXCEEDED");
        assertThat(alice.json().get("retryAfterSeconds").asLong()).isEqualTo(1800);
        assertThat(alice.text("/plan")).isEqualTo("free");

        Response bob = server.check("team-001", "CHAT_MESSAGE", "userId=bob&conversationId=c-2");
        assertThat(bob.json().get("allowed").asBoolean()).isTrue();

        Response upload = server.check("team-001", "FILE_UPLOAD", "userId=bob");
        assertThat(upload.json().get("allowed").asBoolean()).isFalse();
        assertThat(upload.text("/code")).isEqualTo("FEATURE_NOT_IN_PLAN");
        assertThat(upload.json().get("suggestedStatus").asInt()).isEqualTo(403);
    }

    @Test
    void seed002ShouldReportLimitsOfAnOrgOnTheDefaultPlan() {
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_002));
        server.sink.usage("operate-002", "u", "AI_MESSAGES", Instant.parse("2026-11-03T10:00:00Z"), 40, 40, 0, 0, "0");
        Response limits = server.get("/api/v1/usage/operate-002/limits", ADMIN);
        assertThat(limits.status()).isEqualTo(200);
        assertThat(limits.text("/plan")).isEqualTo("free");
        assertThat(limits.text("/periodStart")).isEqualTo("2026-11-01T00:00:00Z");
        assertThat(limits.text("/periodEnd")).isEqualTo("2026-12-01T00:00:00Z");
        assertThat(limits.json().at("/limits/0/limit").asLong()).isEqualTo(100);
        assertThat(limits.json().at("/limits/0/used").asLong()).isEqualTo(40);
        assertThat(limits.json().at("/limits/0/remaining").asLong()).isEqualTo(60);
        assertThat(limits.text("/limits/0/resetsAt")).isEqualTo("2026-12-01T00:00:00Z");
        assertThat(limits.text("/limits/0/enforcement")).isEqualTo("hard");
    }

    @Test
    void seed003TeamOfThreeSeatsShouldBeBlockedAt120Dollars000000001() {
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_003));
        server.subscribe("ws-003", "{\"planId\":\"team\",\"seats\":3,\"periodStart\":\"2026-11-01T00:00:00Z\",\"periodEnd\":\"2026-12-01T00:00:00Z\"}");
        server.sink.cost("ws-003", "WORKFLOW_RUN", Instant.parse("2026-11-02T10:00:00Z"), "100")
                .cost("ws-003", "WORKFLOW_RUN", Instant.parse("2026-11-22T18:00:00Z"), "20");
        Response atLimit = server.check("ws-003", "WORKFLOW_RUN", "costUsd=0");
        assertThat(atLimit.json().get("allowed").asBoolean()).isFalse();
        assertThat(atLimit.text("/limits/0/limit")).isEqualTo("120");
        assertThat(atLimit.text("/limits/0/used")).isEqualTo("120");

        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_003));
        server.subscribe("ws-003b", "{\"planId\":\"team\",\"seats\":3,\"periodStart\":\"2026-11-01T00:00:00Z\",\"periodEnd\":\"2026-12-01T00:00:00Z\"}");
        server.sink.cost("ws-003b", "WORKFLOW_RUN", Instant.parse("2026-11-02T10:00:00Z"), "119.999999999");
        assertThat(server.check("ws-003b", "WORKFLOW_RUN", "costUsd=0.000000001").json().get("allowed").asBoolean()).isTrue();
        server.sink.cost("ws-003b", "WORKFLOW_RUN", Instant.parse("2026-11-22T18:10:00Z"), "0.000000002");
        Response over = server.check("ws-003b", "WORKFLOW_RUN", null);
        assertThat(over.json().get("allowed").asBoolean()).isFalse();
        assertThat(over.text("/code")).isEqualTo("USAGE_LIMIT_EXCEEDED");
        assertThat(over.text("/limits/0/used")).isEqualTo("120.000000001");
        assertThat(over.text("/limits/0/remaining")).isEqualTo("0");

        server.subscribe("big-003", "{\"planId\":\"enterprise\",\"overrides\":{\"period-cost\":\"250\"}}");
        server.sink.cost("big-003", "WORKFLOW_RUN", Instant.parse("2026-11-22T10:00:00Z"), "150");
        assertThat(server.check("big-003", "WORKFLOW_RUN", null).json().get("allowed").asBoolean()).isTrue();
    }

    @Test
    void seed004ShouldRefuseBelowOneCentWith402AndAllowAgainAfterACreditGrant() {
        server.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_004));
        Response created = server.subscribe("user-004", "{\"planId\":\"payg\"}");
        assertThat(created.status()).isEqualTo(201);
        Response balance = server.get("/api/v1/orgs/user-004/balance", ADMIN);
        assertThat(balance.text("/balanceUsd")).isEqualTo("10");
        assertThat(balance.text("/grantedUsd")).isEqualTo("10");
        assertThat(balance.text("/usedUsd")).isEqualTo("0");

        server.sink.usage("user-004", "user-004", "AI_COMPLETION", T0.minusSeconds(60), 7, 7, 70_000, 30_000, "9.991");
        Response poor = server.check("user-004", "AI_COMPLETION", null);
        assertThat(poor.json().get("allowed").asBoolean()).isFalse();
        assertThat(poor.text("/code")).isEqualTo("INSUFFICIENT_BALANCE");
        assertThat(poor.json().get("suggestedStatus").asInt()).isEqualTo(402);
        assertThat(poor.text("/balanceUsd")).isEqualTo("0.009");

        Response grant = server.post("/api/v1/orgs/user-004/credits", ADMIN, "{\"amountUsd\":\"5.00\",\"reason\":\"top-up\"}");
        assertThat(grant.status()).isEqualTo(201);
        assertThat(grant.text("/amountUsd")).isEqualTo("5");
        Response topped = server.check("user-004", "AI_COMPLETION", null);
        assertThat(topped.json().get("allowed").asBoolean()).isTrue();
        assertThat(topped.text("/balanceUsd")).isEqualTo("5.009");

        // the welcome credit is granted once, not on every PUT
        server.subscribe("user-004", "{\"planId\":\"payg\"}");
        assertThat(server.get("/api/v1/orgs/user-004/balance", ADMIN).text("/grantedUsd")).isEqualTo("15");
    }
}
