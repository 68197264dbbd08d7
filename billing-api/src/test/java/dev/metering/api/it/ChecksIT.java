package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static dev.metering.api.it.ApiServer.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer.Response;
import dev.metering.api.plan.ExampleCatalogs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks over HTTP on the real PostgreSQL: a missing userId where a hard user limit applies,
 * the blocking limit's own retry hint and the RateLimit fields, and lifetime windows over years
 * of hourly rows.
 */
class ChecksIT {

    private static final String DAILY_AND_MONTHLY = """
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - { id: daily-messages, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 2 }
                  - { id: monthly-tokens, meter: tokens, window: month, max: 100 }
              - id: guest
                features: [AI_COMPLETION]
                limits:
                  - { id: free-guest-exchanges, feature: AI_COMPLETION, meter: quantity, window: lifetime, scope: user, max: 3 }
                  - { id: lifetime-tokens, meter: tokens, window: lifetime, max: 1000000 }
            """;

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start("billing_checks");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void shouldRefuseACheckWithoutUserIdWhenTheSeedsPerUserLimitsApply() {
        try (ApiServer s = ApiServer.start("billing_checks_user_id")) {
            s.applyCatalog(ExampleCatalogs.text(ExampleCatalogs.SEED_001));
            Response missing = s.check("team-1", "CHAT_MESSAGE", null);
            assertThat(missing.status()).isEqualTo(400);
            assertThat(missing.body()).isEqualTo("{\"error\":{\"code\":\"INVALID_REQUEST\",\"message\":\"userId: required:"
                    + " limit messages-per-user-day (scope user, hard) applies to CHAT_MESSAGE\",\"field\":\"userId\"}}");

            Response alice = s.check("team-1", "CHAT_MESSAGE", "userId=alice&conversationId=c-1");
            assertThat(alice.status()).isEqualTo(200);
            assertThat(alice.json().get("allowed").asBoolean()).isTrue();
            assertThat(alice.json().get("warnings")).isEmpty();

            // shadow mode for this org: the same check is evaluated and reports the problem
            s.putJson("/api/v1/orgs/team-1/enforcement", ADMIN, "{\"mode\":\"shadow\"}");
            Response shadow = s.check("team-1", "CHAT_MESSAGE", null);
            assertThat(shadow.status()).isEqualTo(200);
            assertThat(shadow.json().get("allowed").asBoolean()).isTrue();
            assertThat(shadow.json().get("warnings").get(0).asText()).isEqualTo("userId is required: limit"
                    + " messages-per-user-day (scope user, hard) applies to CHAT_MESSAGE; not evaluated (enforce mode"
                    + " refuses such a check with 400)");
            assertThat(shadow.json().get("warnings")).hasSize(5); // four per-user limits and the conversation's
        }
    }

    @Test
    void shouldAnswerTheBlockingLimitsOwnRetryAndRateLimitFields() {
        server.applyCatalog(DAILY_AND_MONTHLY);
        server.sink.messages("retry-org", "u1", T0.minusSeconds(3600), 2)
                .usage("retry-org", "u1", "AI_COMPLETION", T0.minusSeconds(86_400 * 3), 1, 1, 40, 20, "0");

        Response daily = server.check("retry-org", "CHAT_MESSAGE", "tokens=10");
        assertThat(daily.text("/code")).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
        assertThat(daily.json().get("retryAfterSeconds").asLong()).as("midnight, not the month's end").isEqualTo(19_800);
        assertThat(daily.raw().headers().firstValue("RateLimit-Policy")).hasValue("\"daily-messages\";q=2;w=86400");
        assertThat(daily.raw().headers().firstValue("RateLimit")).hasValue("\"daily-messages\";r=0;t=19800");

        Response tokensOnly = server.check("retry-org", "AI_COMPLETION", "tokens=10");
        assertThat(tokensOnly.json().get("allowed").asBoolean()).isTrue();
        assertThat(tokensOnly.raw().headers().firstValue("RateLimit-Policy")).hasValue("\"monthly-tokens\";q=100;w=2592000");
        assertThat(tokensOnly.raw().headers().firstValue("RateLimit")).hasValue("\"monthly-tokens\";r=40;t=711000");

        // both block: the monthly one frees last, so it decides code and retry
        server.sink.usage("retry-org", "u1", "AI_COMPLETION", T0.minusSeconds(60), 1, 1, 40, 0, "0");
        Response both = server.check("retry-org", "CHAT_MESSAGE", "tokens=1");
        assertThat(both.text("/code")).isEqualTo("MONTHLY_TOKEN_LIMIT_EXCEEDED");
        assertThat(both.json().get("retryAfterSeconds").asLong()).isEqualTo(711_000);
        assertThat(both.json().get("limits")).extracting(l -> l.get("exceeded").asBoolean()).containsExactly(true, true);

        Response tooBig = server.check("retry-org", "AI_COMPLETION", "tokens=101");
        assertThat(tooBig.text("/code")).isEqualTo("MONTHLY_TOKEN_LIMIT_EXCEEDED");
        assertThat(tooBig.json().get("retryAfterSeconds").isNull()).as("101 tokens never fit 100").isTrue();
    }

    @Test
    void shouldReadOneLifetimeRowForAGuestWithYearsOfHourlyRows() {
        server.applyCatalog(DAILY_AND_MONTHLY);
        server.subscribe("guests", "{\"planId\":\"guest\"}");
        // one exchange an hour for three years (2023-11-22T00:00 to 2026-11-22T17:00): 26,322 hourly rows,
        // written in one statement as the sink writes a batch
        for (String table : new String[] {"usage_hourly", "org_usage_hourly"}) {
            boolean detail = table.equals("usage_hourly");
            server.db.execute("INSERT INTO metering." + table + " (org_id, " + (detail ? "user_id, provider, model, " : "")
                    + "feature, window_start, events, quantity, input_tokens, output_tokens, cached_input_tokens,"
                    + " unpriced_events, cost_usd, first_event_at, last_event_at, updated_at, version)"
                    + " SELECT 'guests', " + (detail ? "'veteran', 'openai', 'gpt-5', " : "")
                    + "'AI_COMPLETION', h, 1, 1, 10, 5, 2, 0, 0.001, h, h, h, 1 FROM generate_series("
                    + "timestamptz '2023-11-22 00:00+00', timestamptz '2026-11-22 17:00+00', interval '1 hour') h");
        }
        assertThat(server.db.fetchCount(server.db.selectFrom("metering.usage_hourly")
                .where("org_id = 'guests' AND user_id = 'veteran'"))).isEqualTo(26_322);

        Response veteran = server.check("guests", "AI_COMPLETION", "userId=veteran");
        assertThat(veteran.text("/code")).isEqualTo("LIFETIME_LIMIT_EXCEEDED");
        assertThat(veteran.json().get("retryAfterSeconds").isNull()).isTrue();
        assertThat(veteran.json().at("/limits/0/used").asLong()).isEqualTo(26_322);
        assertThat(veteran.json().at("/limits/0/resetsAt").isNull()).isTrue();
        assertThat(veteran.json().at("/limits/1/used").asLong()).as("input + cached + output").isEqualTo(26_322 * 17);
        assertThat(veteran.raw().headers().firstValue("RateLimit-Policy")).hasValue("\"free-guest-exchanges\";q=3");
        assertThat(veteran.raw().headers().firstValue("RateLimit")).hasValue("\"free-guest-exchanges\";r=0");

        // the check reads the lifetime row, not the hourly ones: retention deleting them changes nothing
        String plan = String.join("\n", server.db.fetch("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)"
                + " SELECT * FROM metering.usage_lifetime WHERE org_id = 'guests' AND user_id = 'veteran'"
                + " AND feature = 'AI_COMPLETION'").getValues(0, String.class));
        assertThat(plan).contains("Index Scan using usage_lifetime_pk").contains("rows=1 loops=1");
        server.db.execute("DELETE FROM metering.usage_hourly WHERE org_id = 'guests'");
        assertThat(server.check("guests", "AI_COMPLETION", "userId=veteran").json().at("/limits/0/used").asLong())
                .isEqualTo(26_322);

        // a new guest session: 3 exchanges, then the 4th is refused, forever
        server.sink.usage("guests", "session-42", "AI_COMPLETION", T0.minusSeconds(600), 1, 1, 0, 0, "0")
                .usage("guests", "session-42", "AI_COMPLETION", T0.minusSeconds(300), 1, 1, 0, 0, "0");
        assertThat(server.check("guests", "AI_COMPLETION", "userId=session-42").json().get("allowed").asBoolean()).isTrue();
        server.sink.usage("guests", "session-42", "AI_COMPLETION", T0.minusSeconds(200), 1, 1, 0, 0, "0");
        Response fourth = server.check("guests", "AI_COMPLETION", "userId=session-42");
        assertThat(fourth.json().get("allowed").asBoolean()).isFalse();
        assertThat(fourth.text("/code")).isEqualTo("LIFETIME_LIMIT_EXCEEDED");
        assertThat(fourth.text("/message")).isEqualTo("Limit free-guest-exchanges reached: 3 of 3 quantity used in the"
                + " current lifetime window by user session-42; it never resets");
        server.clock.advance(java.time.Duration.ofDays(400));
        try {
            assertThat(server.check("guests", "AI_COMPLETION", "userId=session-42").text("/code"))
                    .isEqualTo("LIFETIME_LIMIT_EXCEEDED");
        } finally {
            server.clock.set(T0);
        }
    }
}
