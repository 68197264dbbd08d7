package dev.metering.app.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class UsageAuditTest {

    private static final Instant H = Instant.parse("2026-12-04T10:00:00Z");

    private static UsageAudit.Totals totals(long events, String cost) {
        return new UsageAudit.Totals(events, events, 100, 10, 0, 0, 0, 0, new BigDecimal(cost));
    }

    private static UsageAudit.Row row(UsageAudit.Totals aggregate, UsageAudit.Totals log) {
        return new UsageAudit.Row("usage_hourly", H, "u1 AI_COMPLETION openai gpt-5", aggregate, log);
    }

    @Test
    void shouldAcceptACostApartByNoMoreThanTheRoundingOfEachEventToNanoUsd() {
        // 3 events each rounded by up to half a nano, the total once more: 2 nano apart is possible
        assertThat(row(totals(3, "0.000000010"), totals(3, "0.000000008")).differences()).isEmpty();
        assertThat(row(totals(3, "0.000000010"), totals(3, "0.000000007")).differences())
                .containsExactly("cost_usd 0.00000001 vs log 0.000000007");
    }

    @Test
    void shouldCompareTheCostExactlyWhenTheLogHasEveryEventsExactCost() {
        // 3 events of 0.0000000025 USD each: 7.5 nano exactly, rounded half-even once to 8 nano
        UsageAudit.Totals exact = totals(3, "0").withExactCost(new BigDecimal("7500000"));
        assertThat(exact.costUsd()).isEqualByComparingTo("0.000000008");
        assertThat(row(totals(3, "0.000000008"), exact).differences()).isEmpty();
        assertThat(row(totals(3, "0.000000007"), exact).differences())
                .containsExactly("cost_usd 0.000000007 vs log 0.000000008");
    }

    @Test
    void shouldNameEveryDifferingCountAndARowOnOneSideOnly() {
        assertThat(row(new UsageAudit.Totals(3, 4, 100, 10, 5, 0, 0, 1, BigDecimal.ONE), totals(2, "1")).differences())
                .containsExactly("events 3 vs log 2", "quantity 4 vs log 2", "cached_input_tokens 5 vs log 0",
                        "unpriced_events 1 vs log 0");
        assertThat(row(null, totals(2, "1")).differences())
                .containsExactly("no aggregate row; the event log has 2 event(s)");
        assertThat(row(totals(2, "1"), null).differences())
                .containsExactly("no event in the event log; the aggregate has 2 event(s)");
    }

    @Test
    void shouldStartTheRangeAtTheFirstWholeWindow() {
        assertThat(UsageAudit.ceil(Instant.parse("2026-12-04T10:00:00Z"), UsageAudit.Grain.HOUR)).isEqualTo(H);
        assertThat(UsageAudit.ceil(Instant.parse("2026-12-04T09:59:59.001Z"), UsageAudit.Grain.HOUR)).isEqualTo(H);
        assertThat(UsageAudit.ceil(Instant.parse("2026-12-04T00:00:01Z"), UsageAudit.Grain.DAY))
                .isEqualTo(Instant.parse("2026-12-05T00:00:00Z"));
    }
}
