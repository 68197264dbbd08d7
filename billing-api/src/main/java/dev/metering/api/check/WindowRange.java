package dev.metering.api.check;

import dev.metering.api.plan.TimeWindow;
import dev.metering.api.subscription.BillingPeriod;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The usage range [start, end) a window covers at {@code now}, and {@code resetsAt}: the next
 * instant the window moves (and usage can drop). All UTC. Rolling windows cover the current
 * hour and the N-1 hours (or N*24-1 hours) before it; they move at the next hour boundary.
 * A lifetime window starts at the epoch and never resets ({@code resetsAt} null).
 */
public record WindowRange(Instant start, Instant end, Instant resetsAt) {

    public static WindowRange of(TimeWindow window, Instant now, BillingPeriod period) {
        Instant hour = now.truncatedTo(ChronoUnit.HOURS);
        switch (window.kind()) {
            case HOUR:
                return new WindowRange(hour, hour.plus(1, ChronoUnit.HOURS), hour.plus(1, ChronoUnit.HOURS));
            case DAY: {
                Instant day = now.truncatedTo(ChronoUnit.DAYS);
                Instant next = day.plus(1, ChronoUnit.DAYS);
                return new WindowRange(day, next, next);
            }
            case MONTH: {
                BillingPeriod month = BillingPeriod.calendarMonth(now);
                return new WindowRange(month.start(), month.end(), month.end());
            }
            case BILLING_PERIOD:
                return new WindowRange(period.start(), period.end(), period.end());
            case LIFETIME:
                return new WindowRange(Instant.EPOCH, hour.plus(1, ChronoUnit.HOURS), null);
            case ROLLING_HOURS: {
                Instant end = hour.plus(1, ChronoUnit.HOURS);
                return new WindowRange(end.minus(Duration.ofHours(window.amount())), end, end);
            }
            default: {
                Instant end = hour.plus(1, ChronoUnit.HOURS);
                return new WindowRange(end.minus(Duration.ofDays(window.amount())), end, end);
            }
        }
    }
}
