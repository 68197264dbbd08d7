package dev.metering.api.plan;

import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;

/**
 * One limit of a plan (docs/contract.md, Plan catalog). {@code feature == null} counts every feature and applies to
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

    /**
     * The contract's default code (docs/contract.md, Check) when a limit names none: conversation scope, then
     * lifetime, then cost, else the window's unit and the meter's kind ({@code DAILY_TOKEN_...}).
     * Billing periods count as months; rolling windows take the unit of their length.
     */
    public static String defaultCode(Meter meter, TimeWindow window, LimitScope scope) {
        if ("conversationId".equals(scope.requestField())) {
            return "CONVERSATION_LIMIT_EXCEEDED";
        }
        if (window.kind() == TimeWindow.Kind.LIFETIME) {
            return "LIFETIME_LIMIT_EXCEEDED";
        }
        if (meter.isMoney()) {
            return "USAGE_LIMIT_EXCEEDED";
        }
        String unit;
        switch (window.kind()) {
            case HOUR:
            case ROLLING_HOURS:
                unit = "HOURLY";
                break;
            case DAY:
            case ROLLING_DAYS:
                unit = "DAILY";
                break;
            default:
                unit = "MONTHLY";
        }
        return unit + (meter.isTokens() ? "_TOKEN" : "_MESSAGE") + "_LIMIT_EXCEEDED";
    }
}
