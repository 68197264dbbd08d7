package dev.metering.api.plan;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A limit's window: {@code hour}, {@code day}, {@code month} (calendar, UTC), {@code billing_period}
 * (the subscription's), {@code rolling:Nh} or {@code rolling:Nd} (the last N hours or days
 * including the current hour), {@code lifetime} (every event since the first).
 */
public record TimeWindow(Kind kind, int amount) {

    public enum Kind { HOUR, DAY, MONTH, BILLING_PERIOD, ROLLING_HOURS, ROLLING_DAYS, LIFETIME }

    /** At most one year of rolling hours/days: bounds the rows a check reads. */
    public static final int MAX_ROLLING_HOURS = 24 * 366;
    public static final int MAX_ROLLING_DAYS = 366;

    private static final Pattern ROLLING = Pattern.compile("rolling:([1-9][0-9]{0,4})([hd])");

    public static final TimeWindow HOUR = new TimeWindow(Kind.HOUR, 1);
    public static final TimeWindow DAY = new TimeWindow(Kind.DAY, 1);
    public static final TimeWindow MONTH = new TimeWindow(Kind.MONTH, 1);
    public static final TimeWindow BILLING_PERIOD = new TimeWindow(Kind.BILLING_PERIOD, 1);
    public static final TimeWindow LIFETIME = new TimeWindow(Kind.LIFETIME, 1);

    public static Optional<TimeWindow> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        switch (text) {
            case "hour": return Optional.of(HOUR);
            case "day": return Optional.of(DAY);
            case "month": return Optional.of(MONTH);
            case "billing_period": return Optional.of(BILLING_PERIOD);
            case "lifetime": return Optional.of(LIFETIME);
            default:
                Matcher m = ROLLING.matcher(text);
                if (!m.matches()) {
                    return Optional.empty();
                }
                int n = Integer.parseInt(m.group(1));
                boolean hours = m.group(2).equals("h");
                if (n > (hours ? MAX_ROLLING_HOURS : MAX_ROLLING_DAYS)) {
                    return Optional.empty();
                }
                return Optional.of(new TimeWindow(hours ? Kind.ROLLING_HOURS : Kind.ROLLING_DAYS, n));
        }
    }

    public boolean isHourly() {
        return kind == Kind.HOUR || kind == Kind.ROLLING_HOURS;
    }

    @Override
    public String toString() {
        switch (kind) {
            case HOUR: return "hour";
            case DAY: return "day";
            case MONTH: return "month";
            case BILLING_PERIOD: return "billing_period";
            case LIFETIME: return "lifetime";
            case ROLLING_HOURS: return "rolling:" + amount + "h";
            default: return "rolling:" + amount + "d";
        }
    }
}
