package dev.metering.api.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.api.ApiException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportQueryTest {

    private static ReportQuery parse(String from, String to, String granularity, String groupBy) {
        return ReportQuery.parse("acme", from, to, granularity, groupBy);
    }

    private static String field(Runnable r) {
        try {
            r.run();
        } catch (ApiException e) {
            return e.field();
        }
        throw new AssertionError("not refused");
    }

    @Test
    void shouldAcceptDatesAndAlignedInstantsUpToEachRangeLimit() {
        ReportQuery q = parse("2026-11-01", "2026-12-02T00:00:00Z", "hour", "user,feature,user");
        assertThat(q.from()).isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));
        assertThat(q.groupBy()).isEqualTo(List.of("feature", "user"));
        assertThat(parse("2025-01-01", "2026-01-02", "day", null).granularity()).isEqualTo(ReportQuery.Granularity.DAY);
        assertThat(parse("2023-01-01", "2026-01-01", "month", "model").groupBy()).containsExactly("model");
        assertThat(parse("2026-11-01", "2026-11-02", null, "").granularity()).isEqualTo(ReportQuery.Granularity.DAY);
    }

    @Test
    void shouldRefuseOneBeyondEachRangeLimitAndMisalignedBounds() {
        assertThat(field(() -> parse("2026-11-01", "2026-12-02T01:00:00Z", "hour", null))).isEqualTo("to");
        assertThat(field(() -> parse("2025-01-01", "2026-01-03", "day", null))).isEqualTo("to");
        assertThat(field(() -> parse("2023-01-01", "2026-02-01", "month", null))).isEqualTo("to");
        assertThat(field(() -> parse("2026-11-02", "2026-11-01", "day", null))).isEqualTo("to");
        assertThat(field(() -> parse("2026-11-01T00:30:00Z", "2026-11-02", "hour", null))).isEqualTo("from");
        assertThat(field(() -> parse("2026-11-01T01:00:00Z", "2026-11-02", "day", null))).isEqualTo("from");
        assertThat(field(() -> parse("2026-11-01", "2026-12-15", "month", null))).isEqualTo("to");
        assertThat(field(() -> parse("2026-11-01", "2026-11-02", "day", "org"))).isEqualTo("groupBy");
        assertThatThrownBy(() -> parse("2026-11-01", "nope", "day", null)).hasMessageStartingWith("to: 'nope' is not");
    }
}
