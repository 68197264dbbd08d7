package dev.metering.api.usage;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a range into the fewest rows: daily windows for whole UTC days, hourly windows for the
 * partial days at either end. The start is taken down to its hour (the finest grain stored).
 * A calendar month reads at most 31 daily rows per feature; a rolling 5 h window at most 5
 * hourly rows.
 */
public final class Segments {

    private Segments() {
    }

    public static List<UsageSegment> decompose(Instant from, Instant to, String userId, String feature) {
        Instant start = from.truncatedTo(ChronoUnit.HOURS);
        List<UsageSegment> out = new ArrayList<>(3);
        if (!to.isAfter(start)) {
            return out;
        }
        Instant firstDay = ceilDay(start);
        Instant lastDay = to.truncatedTo(ChronoUnit.DAYS);
        if (!firstDay.isBefore(lastDay)) {
            // no whole day inside: hours only
            out.add(new UsageSegment(Grain.HOURLY, userId, feature, start, to));
            return out;
        }
        if (start.isBefore(firstDay)) {
            out.add(new UsageSegment(Grain.HOURLY, userId, feature, start, firstDay));
        }
        out.add(new UsageSegment(Grain.DAILY, userId, feature, firstDay, lastDay));
        if (lastDay.isBefore(to)) {
            out.add(new UsageSegment(Grain.HOURLY, userId, feature, lastDay, to));
        }
        return out;
    }

    static Instant ceilDay(Instant t) {
        Instant d = t.truncatedTo(ChronoUnit.DAYS);
        return d.equals(t) ? d : d.plus(1, ChronoUnit.DAYS);
    }
}
