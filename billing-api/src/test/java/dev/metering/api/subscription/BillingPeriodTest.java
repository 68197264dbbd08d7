package dev.metering.api.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BillingPeriodTest {

    private static Subscription sub(String start, String end) {
        return new Subscription("acme", "pro", SubscriptionStatus.ACTIVE, Instant.parse(start), Instant.parse(end), 1,
                Map.of(), null, Instant.EPOCH);
    }

    @Test
    void shouldUseCalendarMonthWithoutSubscription() {
        assertThat(BillingPeriod.current(null, Instant.parse("2026-11-22T18:30:00Z")))
                .isEqualTo(new BillingPeriod(Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-12-01T00:00:00Z")));
    }

    @Test
    void shouldUseStoredPeriodWhileItLasts() {
        assertThat(BillingPeriod.current(sub("2026-11-15T10:00:00Z", "2026-12-15T10:00:00Z"),
                Instant.parse("2026-11-22T18:30:00Z"))).isEqualTo(new BillingPeriod(
                Instant.parse("2026-11-15T10:00:00Z"), Instant.parse("2026-12-15T10:00:00Z")));
    }

    @Test
    void shouldRollAnEndedMonthlyPeriodForwardByCalendarMonths() {
        assertThat(BillingPeriod.current(sub("2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z"),
                Instant.parse("2026-11-22T18:30:00Z")).start()).isBefore(Instant.parse("2026-11-22T18:30:00Z"));
        assertThat(BillingPeriod.current(sub("2026-08-15T00:00:00Z", "2026-09-15T00:00:00Z"),
                Instant.parse("2026-11-22T18:30:00Z"))).isEqualTo(new BillingPeriod(
                Instant.parse("2026-11-15T00:00:00Z"), Instant.parse("2026-12-15T00:00:00Z")));
    }

    @Test
    void shouldRollAnEndedNonMonthlyPeriodByItsLength() {
        assertThat(BillingPeriod.current(sub("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z"),
                Instant.parse("2026-11-22T18:30:00Z"))).isEqualTo(new BillingPeriod(
                Instant.parse("2026-11-22T00:00:00Z"), Instant.parse("2026-11-29T00:00:00Z")));
    }
}
