package dev.metering.api.http;

import dev.metering.api.check.CheckResult;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.plan.PlanLimit;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;

/**
 * IETF {@code RateLimit-Policy} and {@code RateLimit} fields (draft-ietf-httpapi-ratelimit-headers,
 * structured fields) for a check's most constraining limit, named by its limit id:
 * {@code RateLimit-Policy: "daily-messages";q=200;w=86400} and
 * {@code RateLimit: "daily-messages";r=12;t=3600}. {@code w} is the window's length and {@code t}
 * the seconds until it resets; both are absent for a lifetime limit, which never resets. Cost
 * limits count whole cents ({@code qu="usd-cents"}): the draft's quota is an integer.
 */
public final class RateLimitHeaders {

    public static final String POLICY = "RateLimit-Policy";
    public static final String RATE_LIMIT = "RateLimit";

    private RateLimitHeaders() {
    }

    /** {@code [policy, rateLimit]}, or null when the check evaluated no limit. */
    public static String[] of(CheckResult r, Instant now) {
        LimitStatus s = r.constraining();
        if (s == null) {
            return null;
        }
        PlanLimit l = s.definition();
        String name = "\"" + l.id() + "\"";
        boolean money = l.meter().isMoney();
        StringBuilder policy = new StringBuilder(name).append(";q=").append(units(s.limit(), money));
        if (money) {
            policy.append(";qu=\"usd-cents\"");
        }
        StringBuilder state = new StringBuilder(name).append(";r=").append(units(s.remaining(), money));
        if (s.resetsAt() != null) {
            policy.append(";w=").append(Duration.between(s.windowStart(), s.resetsAt()).toSeconds());
            long millis = Duration.between(now, s.resetsAt()).toMillis();
            state.append(";t=").append(millis <= 0 ? 0 : (millis + 999) / 1000);
        }
        return new String[] {policy.toString(), state.toString()};
    }

    private static long units(BigDecimal v, boolean money) {
        BigDecimal u = money ? v.movePointRight(2) : v;
        return u.setScale(0, RoundingMode.FLOOR).max(BigDecimal.ZERO).min(BigDecimal.valueOf(999_999_999_999_999L))
                .longValueExact();
    }
}
