package dev.metering.api.alert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.check.LimitStatus;
import dev.metering.api.plan.Enforcement;
import dev.metering.api.plan.LimitScope;
import dev.metering.api.plan.Meter;
import dev.metering.api.plan.PlanLimit;
import dev.metering.api.plan.TimeWindow;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrossingsTest {

    private static final Instant DAY = Instant.parse("2026-11-22T00:00:00Z");

    private static PlanLimit limit(String id, TimeWindow window, LimitScope scope, List<BigDecimal> alertAt) {
        return new PlanLimit(id, "CHAT_MESSAGE", Meter.QUANTITY, window, scope, BigDecimal.valueOf(200), false,
                Enforcement.HARD, "DAILY_MESSAGE_LIMIT_EXCEEDED", alertAt);
    }

    private static LimitStatus status(PlanLimit l, long used, Instant windowStart) {
        return new LimitStatus(l, l.max(), BigDecimal.valueOf(used), l.max().subtract(BigDecimal.valueOf(used)).max(BigDecimal.ZERO),
                windowStart, windowStart.plusSeconds(86_400), used >= 200);
    }

    @Test
    void shouldAlertAtEveryThresholdReachedWithTheContractFields() {
        PlanLimit l = limit("daily", TimeWindow.DAY, LimitScope.ORG, PlanLimit.DEFAULT_ALERT_AT);
        assertThat(Crossings.limits("acme", null, "free", List.of(status(l, 159, DAY)))).isEmpty();
        assertThat(Crossings.limits("acme", null, "free", List.of(status(l, 160, DAY)))).hasSize(1);
        List<Alert> both = Crossings.limits("acme", null, "free", List.of(status(l, 250, DAY)));
        assertThat(both).extracting(a -> a.data().get("threshold"))
                .containsExactly(new BigDecimal("0.8"), BigDecimal.ONE);
        assertThat(both.get(1).type()).isEqualTo(AlertType.LIMIT_THRESHOLD_REACHED);
        assertThat(both.get(1).data()).containsExactly(
                java.util.Map.entry("orgId", "acme"), java.util.Map.entry("limitId", "daily"),
                java.util.Map.entry("feature", "CHAT_MESSAGE"), java.util.Map.entry("meter", "quantity"),
                java.util.Map.entry("window", "day"), java.util.Map.entry("scope", "org"),
                java.util.Map.entry("threshold", BigDecimal.ONE), java.util.Map.entry("used", java.math.BigInteger.valueOf(250)),
                java.util.Map.entry("limit", java.math.BigInteger.valueOf(200)), java.util.Map.entry("windowStart", DAY),
                java.util.Map.entry("resetsAt", DAY.plusSeconds(86_400)), java.util.Map.entry("planId", "free"));
        assertThat(both.get(0).key()).isEqualTo("[\"limit\",\"acme\",\"org\",\"\",\"daily\",\"2026-11-22T00:00:00Z\",\"0.8\"]");
    }

    @Test
    void shouldKeyEachWindowInstanceApartAndSkipLimitsWithoutThresholdsOrOfZero() {
        PlanLimit l = limit("daily", TimeWindow.DAY, LimitScope.ORG, PlanLimit.DEFAULT_ALERT_AT);
        String today = Crossings.limits("acme", null, "free", List.of(status(l, 170, DAY))).get(0).key();
        String tomorrow = Crossings.limits("acme", null, "free", List.of(status(l, 170, DAY.plusSeconds(86_400)))).get(0).key();
        assertThat(today).isNotEqualTo(tomorrow);
        PlanLimit off = limit("off", TimeWindow.DAY, LimitScope.ORG, List.of());
        assertThat(Crossings.limits("acme", null, "free", List.of(status(off, 500, DAY)))).isEmpty();
        PlanLimit zero = new PlanLimit("zero", null, Meter.QUANTITY, TimeWindow.DAY, LimitScope.ORG, BigDecimal.ZERO, false,
                Enforcement.HARD, "X");
        assertThat(Crossings.limits("acme", null, "free", List.of(new LimitStatus(zero, BigDecimal.ZERO, BigDecimal.ONE,
                BigDecimal.ZERO, DAY, DAY, true)))).isEmpty();
    }

    @Test
    void shouldKeepOneRollingInstancePerWindowLengthAndNameTheUser() {
        PlanLimit rolling = limit("five-hours", TimeWindow.parse("rolling:5h").orElseThrow(), LimitScope.USER,
                List.of(BigDecimal.ONE));
        Instant h1 = Instant.parse("2026-11-22T10:00:00Z");
        String a = Crossings.limits("acme", "u1", "free", List.of(status(rolling, 200, h1))).get(0).key();
        String b = Crossings.limits("acme", "u1", "free", List.of(status(rolling, 200, h1.plusSeconds(3600)))).get(0).key();
        String c = Crossings.limits("acme", "u1", "free", List.of(status(rolling, 200, Instant.parse("2026-11-22T15:00:00Z"))))
                .get(0).key();
        assertThat(a).isEqualTo(b).isNotEqualTo(c);
        Alert user = Crossings.limits("acme", "u1", "free", List.of(status(rolling, 200, h1))).get(0);
        assertThat(user.data()).containsEntry("userId", "u1").containsEntry("scope", "user");
        assertThat(Crossings.limits("acme", null, "free", List.of(status(rolling, 200, h1)))).isEmpty();
    }

    @Test
    void shouldAlertAConversationLimitOncePerConversationNamingIt() {
        PlanLimit perConversation = limit("per-conversation", TimeWindow.parse("lifetime").orElseThrow(),
                LimitScope.CONVERSATION, PlanLimit.DEFAULT_ALERT_AT);
        Instant lifetime = Instant.EPOCH;
        List<Alert> c1 = Crossings.limits("acme", null, "c-1", "free", List.of(status(perConversation, 160, lifetime)));
        assertThat(c1).singleElement().satisfies(a -> {
            assertThat(a.key()).isEqualTo("[\"limit\",\"acme\",\"conversation\",\"c-1\",\"per-conversation\","
                    + "\"1970-01-01T00:00:00Z\",\"0.8\"]");
            assertThat(a.data()).containsEntry("conversationId", "c-1").containsEntry("scope", "conversation")
                    .containsEntry("window", "lifetime").doesNotContainKey("userId");
        });
        String c2 = Crossings.limits("acme", null, "c-2", "free", List.of(status(perConversation, 160, lifetime))).get(0).key();
        assertThat(c2).isNotEqualTo(c1.get(0).key());
        // without a conversation, or evaluated as an org's or a user's limits: nothing
        assertThat(Crossings.limits("acme", "u1", "free", List.of(status(perConversation, 500, lifetime)))).isEmpty();
    }
}
