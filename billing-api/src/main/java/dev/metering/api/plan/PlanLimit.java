package dev.metering.api.plan;

import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;

/**
 * One limit of a plan (DESIGN §7.2). {@code feature == null} counts every feature and applies to
 * checks of any feature. {@code max} is a whole number for counting meters and a USD amount for
 * {@code cost_usd}. {@code alertAt}: fractions of the limit that raise an alert when usage reaches
 * them (empty: no alerts).
 */
public record PlanLimit(
        String id,
        String feature,
        Meter meter,
        TimeWindow window,
        LimitScope scope,
        BigDecimal max,
        boolean perSeat,
        Enforcement enforcement,
        String code,
        List<BigDecimal> alertAt) {

    public static final List<BigDecimal> DEFAULT_ALERT_AT = List.of(new BigDecimal("0.8"), BigDecimal.ONE);

    public PlanLimit {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(meter, "meter");
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(max, "max");
        Objects.requireNonNull(enforcement, "enforcement");
        Objects.requireNonNull(code, "code");
        alertAt = alertAt == null ? DEFAULT_ALERT_AT : List.copyOf(alertAt);
    }

    /** A limit with the default alert thresholds. */
    public PlanLimit(String id, String feature, Meter meter, TimeWindow window, LimitScope scope, BigDecimal max,
                     boolean perSeat, Enforcement enforcement, String code) {
        this(id, feature, meter, window, scope, max, perSeat, enforcement, code, DEFAULT_ALERT_AT);
    }

    public boolean appliesTo(String checkedFeature) {
        return feature == null || feature.equals(checkedFeature);
    }

    /** The contract's default codes (DESIGN §7.1) when a limit names none. */
    public static String defaultCode(Meter meter, TimeWindow window) {
        if (meter.isMoney()) {
            return "USAGE_LIMIT_EXCEEDED";
        }
        if (meter.isTokens()) {
            return "MONTHLY_TOKEN_LIMIT_EXCEEDED";
        }
        return window.isHourly() ? "HOURLY_MESSAGE_LIMIT_EXCEEDED" : "DAILY_MESSAGE_LIMIT_EXCEEDED";
    }
}
