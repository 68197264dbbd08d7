package dev.metering.api.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LastKnownUsageTest {

    private static final Instant DAY = Instant.parse("2026-11-22T00:00:00Z");
    private static final UsageSegment TODAY_TO_10H = new UsageSegment(Grain.HOURLY, null, "CHAT_MESSAGE", DAY,
            DAY.plusSeconds(10 * 3600));
    private static final UsageSegment TODAY_TO_11H = new UsageSegment(Grain.HOURLY, null, "CHAT_MESSAGE", DAY,
            DAY.plusSeconds(11 * 3600));
    private static final UsageSegment USER_TODAY = new UsageSegment(Grain.HOURLY, "u1", "CHAT_MESSAGE", DAY,
            DAY.plusSeconds(11 * 3600));

    private final Map<UsageSegment, UsageTotals> database = new HashMap<>();
    private boolean databaseDown;
    private final LastKnownUsage usage = new LastKnownUsage((org, segments) -> {
        if (databaseDown) {
            throw new IllegalStateException("database down");
        }
        Map<UsageSegment, UsageTotals> out = new HashMap<>();
        segments.forEach(s -> out.put(s, database.getOrDefault(s, UsageTotals.ZERO)));
        return out;
    }, 2);

    @Test
    void shouldAnswerWithTheLastTotalsReadAndMatchAWindowThatMovedOnByItsStart() {
        database.put(TODAY_TO_10H, totals(7));
        assertThat(usage.totals("acme", Set.of(TODAY_TO_10H))).containsEntry(TODAY_TO_10H, totals(7));

        databaseDown = true;
        assertThatThrownBy(() -> usage.totals("acme", Set.of(TODAY_TO_10H))).hasMessage("database down");
        assertThat(usage.lastKnown().totals("acme", Set.of(TODAY_TO_10H, TODAY_TO_11H, USER_TODAY)))
                .isEqualTo(Map.of(TODAY_TO_10H, totals(7), TODAY_TO_11H, totals(7), USER_TODAY, UsageTotals.ZERO));
        assertThat(usage.lastKnown().totals("never-read", Set.of(TODAY_TO_10H)))
                .isEqualTo(Map.of(TODAY_TO_10H, UsageTotals.ZERO));
    }

    @Test
    void shouldKeepAtMostTheConfiguredNumberOfOrgs() {
        database.put(TODAY_TO_10H, totals(1));
        usage.totals("a", Set.of(TODAY_TO_10H));
        usage.totals("b", Set.of(TODAY_TO_10H));
        usage.totals("c", Set.of(TODAY_TO_10H));
        assertThat(Set.of("a", "b", "c").stream().filter(usage::knows).count()).isEqualTo(2);
        assertThat(usage.knows("c")).isTrue();
    }

    private static UsageTotals totals(long messages) {
        return new UsageTotals(messages, messages, 0, 0, 0, BigDecimal.ZERO);
    }
}
