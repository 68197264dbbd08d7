package dev.metering.api.it;

import static dev.metering.db.jooq.Tables.SINK_PROGRESS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.ModePolicy;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.it.ApiServer.Response;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * off / shadow / enforce, canary by stable org hash, per-org override, staleness policies. The
 * mode is runtime state in the database (the environment only seeds it), so each test sets it
 * through {@code PUT /api/v1/enforcement} first.
 */
class ModesIT {

    /** Every check of the default plan is over its limit (max 0). */
    private static final String ALWAYS_OVER = """
            defaultPlan: closed
            plans:
              - id: closed
                limits:
                  - { id: none, meter: quantity, window: day, max: 0, code: DAILY_MESSAGE_LIMIT_EXCEEDED }
              - id: open
            """;

    private static String url;

    @BeforeAll
    static void database() {
        url = ApiServer.freshDatabase("billing_modes");
        try (ApiServer s = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            s.applyCatalog(ALWAYS_OVER);
        }
    }

    private static void global(ApiServer server, String mode, int canaryPercent) {
        Response r = server.putJson("/api/v1/enforcement", ApiServer.ADMIN,
                "{\"mode\":\"" + mode + "\",\"canaryPercent\":" + canaryPercent + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    @Test
    void shadowShouldAllowAndReportWouldBlock() {
        try (ApiServer shadow = ApiServer.start(url, EnforcementMode.SHADOW, 0, StalePolicy.FAIL_OPEN)) {
            global(shadow, "shadow", 0);
            Response r = shadow.check("any-org", "CHAT_MESSAGE", null);
            assertThat(r.json().get("allowed").asBoolean()).isTrue();
            assertThat(r.json().get("wouldBlock").asBoolean()).isTrue();
            assertThat(r.text("/mode")).isEqualTo("shadow");
            assertThat(r.text("/code")).isEqualTo("DAILY_MESSAGE_LIMIT_EXCEEDED");
            assertThat(r.json().get("suggestedStatus").asInt()).isEqualTo(200);
            assertThat(r.json().get("retryAfterSeconds").isNull()).isTrue();
        }
    }

    @Test
    void offShouldNeverBlockAndAnOrgOverrideShouldWin() {
        try (ApiServer off = ApiServer.start(url, EnforcementMode.OFF, 0, StalePolicy.FAIL_OPEN)) {
            global(off, "off", 0);
            assertThat(off.check("org-off", "CHAT_MESSAGE", null).json().get("allowed").asBoolean()).isTrue();
            off.subscribe("org-enforced", "{\"planId\":\"closed\",\"enforcement\":\"enforce\"}");
            Response r = off.check("org-enforced", "CHAT_MESSAGE", null);
            assertThat(r.json().get("allowed").asBoolean()).isFalse();
            assertThat(r.text("/mode")).isEqualTo("enforce");
        }
    }

    @Test
    void aTenPercentCanaryShouldEnforceForRoughlyTenPercentOfOrgsAlwaysTheSameOnes() {
        try (ApiServer canary = ApiServer.start(url, EnforcementMode.SHADOW, 10, StalePolicy.FAIL_OPEN)) {
            global(canary, "shadow", 10);
            Set<String> enforced = new HashSet<>();
            for (int i = 0; i < 10_000; i++) {
                String org = "org-" + i;
                Response r = canary.check(org, "CHAT_MESSAGE", null);
                if (!r.json().get("allowed").asBoolean()) {
                    enforced.add(org);
                    assertThat(r.text("/mode")).isEqualTo("enforce");
                }
            }
            assertThat(enforced.size()).isBetween(900, 1100);
            for (String org : enforced) {
                assertThat(ModePolicy.bucket(org)).isLessThan(10);
            }
            try (ApiServer again = ApiServer.start(url, EnforcementMode.SHADOW, 10, StalePolicy.FAIL_OPEN)) {
                for (int i = 0; i < 1_000; i++) {
                    String org = "org-" + i;
                    assertThat(!again.check(org, "CHAT_MESSAGE", null).json().get("allowed").asBoolean())
                            .as(org).isEqualTo(enforced.contains(org));
                }
            }
        }
    }

    @Test
    void staleUsageShouldFailClosedOrOpenAsConfigured() {
        try (ApiServer closed = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_CLOSED)) {
            global(closed, "enforce", 0);
            closed.subscribe("org-open", "{\"planId\":\"open\"}");
            assertThat(closed.check("org-open", "CHAT_MESSAGE", null).json().get("allowed").asBoolean()).isTrue();
            closed.clock.advance(java.time.Duration.ofSeconds(61));
            Response r = closed.check("org-open", "CHAT_MESSAGE", null);
            assertThat(r.json().get("stale").asBoolean()).isTrue();
            assertThat(r.json().get("allowed").asBoolean()).isFalse();
            assertThat(r.text("/code")).isEqualTo("USAGE_DATA_STALE");
            assertThat(r.json().get("suggestedStatus").asInt()).isEqualTo(503);
            assertThat(closed.get("/ready", null).status()).isEqualTo(503);
        }
        try (ApiServer open = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            open.clock.advance(java.time.Duration.ofSeconds(61));
            Response r = open.check("org-open", "CHAT_MESSAGE", null);
            assertThat(r.json().get("stale").asBoolean()).isTrue();
            assertThat(r.json().get("allowed").asBoolean()).isTrue();
            // not ready under either policy, naming the stage: nothing moved sink_progress for 61 s
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Response ready = open.get("/ready", null);
                assertThat(ready.status()).isEqualTo(503);
                assertThat(ready.text("/stalled")).isEqualTo("sink");
                assertThat(ready.text("/reason")).isEqualTo("the sink has written nothing since 2026-11-22T18:30:00Z");
            });
        }
    }

    @Test
    void staleUsageWithAnIdleSinkShouldNameStreamsAsTheStalledStage() {
        String db = ApiServer.freshDatabase("billing_streams_stalled");
        try (ApiServer api = ApiServer.start(db, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            api.applyCatalog(ALWAYS_OVER);
            // the sink heartbeats (written_at now), but streams last caught up 2 minutes ago
            api.db.update(SINK_PROGRESS)
                    .set(SINK_PROGRESS.USAGE_AS_OF, ApiServer.T0.minusSeconds(120).atOffset(ZoneOffset.UTC))
                    .set(SINK_PROGRESS.STREAMS_AS_OF, ApiServer.T0.minusSeconds(120).atOffset(ZoneOffset.UTC))
                    .execute();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Response r = api.check("org-open", "CHAT_MESSAGE", null);
                assertThat(r.text("/usageAsOf")).isEqualTo("2026-11-22T18:28:00Z");
                assertThat(r.json().get("stale").asBoolean()).isTrue();
                Response ready = api.get("/ready", null);
                assertThat(ready.status()).isEqualTo(503);
                assertThat(ready.text("/database")).isEqualTo("up");
                assertThat(ready.text("/stalled")).isEqualTo("streams");
                assertThat(ready.text("/reason"))
                        .isEqualTo("metering-streams has not processed the events appended since 2026-11-22T18:28:00Z");
                assertThat(api.get("/metrics", null).body())
                        .contains("metering_api_pipeline_age_seconds{stage=\"streams\"} 120.0")
                        .contains("metering_api_pipeline_age_seconds{stage=\"sink\"} 0.0");
            });
        }
    }

    @Test
    void usageShouldBeAsOfTheMostLaggingAggregatesPartitionAndIgnoreOtherTopics() {
        String db = ApiServer.freshDatabase("billing_freshness"); // aggregates partition 0 written at T0
        try (ApiServer api = ApiServer.start(db, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            api.applyCatalog(ALWAYS_OVER);
            api.subscribe("org-open", "{\"planId\":\"open\"}");
            api.sink.progress("metering.usage.aggregates", 1, ApiServer.T0.minusSeconds(120));
            api.sink.progress("metering.usage.dlq", 0, ApiServer.T0.minusSeconds(3600));

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Response r = api.check("org-open", "CHAT_MESSAGE", null);
                assertThat(r.text("/usageAsOf")).isEqualTo("2026-11-22T18:28:00Z");
                assertThat(r.json().get("stale").asBoolean()).isTrue();
            });

            // partition 1 catches up (a batch or the sink's idle heartbeat): the dead-letter topic does not count
            api.sink.progress("metering.usage.aggregates", 1, ApiServer.T0);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Response r = api.check("org-open", "CHAT_MESSAGE", null);
                assertThat(r.text("/usageAsOf")).isEqualTo("2026-11-22T18:30:00Z");
                assertThat(r.json().get("stale").asBoolean()).isFalse();
            });
        }
    }
}
