package dev.metering.api.subscription;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;

/**
 * A billing period [start, end). Without a subscription the period is the calendar month (UTC).
 * A stored period that has ended rolls forward by whole periods until it contains now: by whole
 * calendar months when the stored period is a whole number of months, else by its duration, so
 * limits keep resetting even if the billing system is late to send the next period.
 */
public record BillingPeriod(Instant start, Instant end) {

    public static BillingPeriod calendarMonth(Instant now) {
        ZonedDateTime first = now.atZone(ZoneOffset.UTC).withDayOfMonth(1).truncatedTo(ChronoUnit.DAYS);
        return new BillingPeriod(first.toInstant(), first.plusMonths(1).toInstant());
    }

    public static BillingPeriod current(Subscription subscription, Instant now) {
        if (subscription == null) {
            return calendarMonth(now);
        }
        Instant start = subscription.periodStart();
        Instant end = subscription.periodEnd();
        if (!end.isAfter(start)) {
            return calendarMonth(now);
        }
        if (now.isBefore(end)) {
            return new BillingPeriod(start, end);
        }
        ZonedDateTime zs = start.atZone(ZoneOffset.UTC);
        ZonedDateTime ze = end.atZone(ZoneOffset.UTC);
        long months = ChronoUnit.MONTHS.between(zs, ze);
        if (months > 0 && zs.plusMonths(months).equals(ze)) {
            long k = ChronoUnit.MONTHS.between(zs, now.atZone(ZoneOffset.UTC)) / months * months;
            ZonedDateTime s = zs.plusMonths(k);
            while (!s.plusMonths(months).toInstant().isAfter(now)) {
                s = s.plusMonths(months);
            }
            return new BillingPeriod(s.toInstant(), s.plusMonths(months).toInstant());
        }
        Duration length = Duration.between(start, end);
        long periods = Duration.between(start, now).toMillis() / length.toMillis();
        Instant s = start.plus(length.multipliedBy(periods));
        return new BillingPeriod(s, s.plus(length));
    }
}
