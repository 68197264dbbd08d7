package dev.metering.api.report;

import dev.metering.api.ApiException;
import dev.metering.api.InputBounds;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A validated usage report request: {@code [from, to)} aligned to whole periods of the
 * granularity (UTC), within the range limit (hour: 31 days, day: 366 days, month: 36 months),
 * grouped by any of {@code feature}, {@code model} (provider and model), {@code user}.
 */
public record ReportQuery(String orgId, Instant from, Instant to, Granularity granularity, List<String> groupBy) {

    public enum Granularity {
        HOUR, DAY, MONTH;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final List<String> GROUPS = List.of("feature", "model", "user");

    public boolean groups(String dimension) {
        return groupBy.contains(dimension);
    }

    public static ReportQuery parse(String orgId, String fromText, String toText, String granularityText,
                                    String groupByText) {
        Granularity g;
        if (granularityText == null || granularityText.isEmpty()) {
            g = Granularity.DAY;
        } else {
            try {
                g = Granularity.valueOf(granularityText.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("granularity", "'" + granularityText + "' is not one of hour, day, month");
            }
        }
        Instant from = instant("from", fromText);
        Instant to = instant("to", toText);
        aligned("from", from, g);
        aligned("to", to, g);
        if (!to.isAfter(from)) {
            throw ApiException.badRequest("to", "must be after from");
        }
        switch (g) {
            case HOUR -> {
                if (Duration.between(from, to).compareTo(Duration.ofDays(31)) > 0) {
                    throw ApiException.badRequest("to", "hour granularity covers at most 31 days; got "
                            + Duration.between(from, to).toHours() + " hours (use granularity=day)");
                }
            }
            case DAY -> {
                if (Duration.between(from, to).compareTo(Duration.ofDays(366)) > 0) {
                    throw ApiException.badRequest("to", "day granularity covers at most 366 days; got "
                            + Duration.between(from, to).toDays() + " days (use granularity=month)");
                }
            }
            case MONTH -> {
                long months = ChronoUnit.MONTHS.between(from.atZone(ZoneOffset.UTC), to.atZone(ZoneOffset.UTC));
                if (months > 36) {
                    throw ApiException.badRequest("to", "month granularity covers at most 36 months; got " + months);
                }
            }
        }
        List<String> groups = new ArrayList<>();
        if (groupByText != null && !groupByText.isBlank()) {
            for (String part : groupByText.split(",")) {
                String d = part.strip();
                if (!GROUPS.contains(d)) {
                    throw ApiException.badRequest("groupBy", "'" + d + "' is not one of feature, model, user");
                }
                if (!groups.contains(d)) {
                    groups.add(d);
                }
            }
        }
        groups.sort((a, b) -> Integer.compare(GROUPS.indexOf(a), GROUPS.indexOf(b)));
        return new ReportQuery(orgId, from, to, g, List.copyOf(groups));
    }

    /** {@code 2026-11-01} (UTC midnight) or an ISO-8601 instant; required. */
    static Instant instant(String field, String text) {
        if (text == null || text.isEmpty()) {
            throw ApiException.badRequest(field, "required: a UTC date (2026-11-01) or an ISO-8601 instant");
        }
        Instant t;
        try {
            t = text.length() == 10 ? LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(field, "'" + text + "' is not a UTC date (2026-11-01) or an ISO-8601 instant");
        }
        if (InputBounds.instantProblem(t) != null) {
            throw ApiException.badRequest(field, text + " " + InputBounds.instantProblem(t));
        }
        return t;
    }

    static void aligned(String field, Instant t, Granularity g) {
        ZonedDateTime z = t.atZone(ZoneOffset.UTC);
        boolean ok = switch (g) {
            case HOUR -> t.equals(t.truncatedTo(ChronoUnit.HOURS));
            case DAY -> t.equals(t.truncatedTo(ChronoUnit.DAYS));
            case MONTH -> t.equals(t.truncatedTo(ChronoUnit.DAYS)) && z.getDayOfMonth() == 1;
        };
        if (!ok) {
            throw ApiException.badRequest(field, t + " is not the start of a UTC " + g.wireName()
                    + " (reports cover whole periods)");
        }
    }
}
