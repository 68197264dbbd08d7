package dev.metering.api.usage;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class SegmentsTest {

    @Test
    void shouldReadWholeDaysFromDailyRowsAndPartialDaysFromHourlyRows() {
        assertThat(Segments.decompose(Instant.parse("2026-11-15T13:20:00Z"), Instant.parse("2026-11-22T19:00:00Z"),
                null, "CHAT_MESSAGE")).containsExactly(
                new UsageSegment(Grain.HOURLY, null, "CHAT_MESSAGE", Instant.parse("2026-11-15T13:00:00Z"),
                        Instant.parse("2026-11-16T00:00:00Z")),
                new UsageSegment(Grain.DAILY, null, "CHAT_MESSAGE", Instant.parse("2026-11-16T00:00:00Z"),
                        Instant.parse("2026-11-22T00:00:00Z")),
                new UsageSegment(Grain.HOURLY, null, "CHAT_MESSAGE", Instant.parse("2026-11-22T00:00:00Z"),
                        Instant.parse("2026-11-22T19:00:00Z")));
    }

    @Test
    void shouldReadOneDailySegmentForAlignedDays() {
        assertThat(Segments.decompose(Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-12-01T00:00:00Z"),
                "u1", null)).containsExactly(new UsageSegment(Grain.DAILY, "u1", null,
                Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-12-01T00:00:00Z")));
    }

    @Test
    void shouldReadOnlyHoursInsideOneDay() {
        assertThat(Segments.decompose(Instant.parse("2026-11-22T14:00:00Z"), Instant.parse("2026-11-22T19:00:00Z"),
                null, null)).containsExactly(new UsageSegment(Grain.HOURLY, null, null,
                Instant.parse("2026-11-22T14:00:00Z"), Instant.parse("2026-11-22T19:00:00Z")));
    }
}
