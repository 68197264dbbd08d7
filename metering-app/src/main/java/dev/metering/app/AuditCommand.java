package dev.metering.app;

import dev.metering.app.audit.UsageAudit;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.DbSettings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "audit", mixinStandardHelpOptions = true,
        description = {"Explains the numbers of one org: compares every aggregate row whose window starts in [--from, --to) "
                + "(org grain org_usage_hourly/org_usage_daily, detail grain usage_hourly/usage_daily) with the sum of its "
                + "counted events in the event log (usage_events, METERING_EVENT_LOG=on) for the same key and window: "
                + "events, quantity, every token count, unpriced events and cost (cost within the per-event rounding to "
                + "nano-USD). Prints one line per row and 'audit: N rows compared, D differences'.",
            "Exit code: 0 when every row matches, 1 when any differs.",
            "Configuration: METERING_DB_URL (required), METERING_DB_USER, METERING_DB_PASSWORD."})
final class AuditCommand implements Callable<Integer> {

    static final Duration MAX_RANGE = Duration.ofDays(400);

    @Option(names = "--org", required = true, description = "the org id")
    String org;

    @Option(names = "--from", required = true, description = "ISO-8601 instant, e.g. 2026-12-01T00:00:00Z")
    String from;

    @Option(names = "--to", required = true, description = "ISO-8601 instant (exclusive), after --from, at most 400 days later")
    String to;

    @Option(names = "--grain", defaultValue = "hour", description = "hour or day (default ${DEFAULT-VALUE})")
    String grain;

    @Override
    public Integer call() throws SQLException {
        Instant start = instant("--from", from);
        Instant end = instant("--to", to);
        if (!end.isAfter(start) || Duration.between(start, end).compareTo(MAX_RANGE) > 0) {
            throw new UserException("--to must be after --from and at most " + MAX_RANGE.toDays() + " days later", 2, null);
        }
        if (org.isBlank() || org.length() > 256) {
            throw new UserException("--org must be 1-256 characters", 2, null);
        }
        UsageAudit.Grain g = switch (grain.toLowerCase(Locale.ROOT)) {
            case "hour" -> UsageAudit.Grain.HOUR;
            case "day" -> UsageAudit.Grain.DAY;
            default -> throw new UserException("--grain must be hour or day, got '" + grain + "'", 2, null);
        };
        ConfigSource source = DevAddresses.source();
        DbSettings db = DbSettings.from(source);
        source.throwIfInvalid();
        try (Connection c = db.connect()) {
            return UsageAudit.print(UsageAudit.run(c, org, start, end, g), System.out) == 0 ? 0 : 1;
        }
    }

    private static Instant instant(String option, String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new UserException(option + " '" + text + "' is not an ISO-8601 instant such as 2026-12-01T00:00:00Z", 2,
                    null);
        }
    }
}
