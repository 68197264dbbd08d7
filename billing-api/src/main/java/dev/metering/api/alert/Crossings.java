package dev.metering.api.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.credit.CreditGrant;
import dev.metering.api.http.Bodies;
import dev.metering.api.plan.LimitScope;
import dev.metering.api.plan.PlanLimit;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which alerts an evaluation calls for (plain Java, no SQL). A limit alerts at each fraction of
 * {@code alertAt} that usage has reached ({@code used >= fraction x limit}), once per window
 * instance: its key holds the window's start. Rolling windows start anew every hour, so their
 * instance is the epoch-aligned slice of the window's length (at most one alert per threshold per
 * window length). A limit of 0 never alerts (it is a switch, not a budget).
 */
public final class Crossings {

    private static final ObjectMapper KEYS = new ObjectMapper();

    private Crossings() {
    }

    /** Alerts for {@code statuses} of one org ({@code userId} set for user-scoped limits only). */
    public static List<Alert> limits(String orgId, String userId, String planId, List<LimitStatus> statuses) {
        return limits(orgId, userId, null, planId, statuses);
    }

    /**
     * Alerts for {@code statuses} of one org: {@code userId} is used for user-scoped limits and
     * {@code conversationId} for conversation-scoped ones; a scoped limit without its id is skipped.
     */
    public static List<Alert> limits(String orgId, String userId, String conversationId, String planId,
                                     List<LimitStatus> statuses) {
        List<Alert> out = new ArrayList<>();
        for (LimitStatus s : statuses) {
            PlanLimit l = s.definition();
            if (l.alertAt().isEmpty() || s.limit().signum() <= 0) {
                continue;
            }
            String user = l.scope() == LimitScope.USER ? userId : null;
            String conversation = l.scope() == LimitScope.CONVERSATION ? conversationId : null;
            String subject = l.scope() == LimitScope.ORG ? "" : l.scope() == LimitScope.USER ? user : conversation;
            if (subject == null) {
                continue;
            }
            Instant instance = instance(l, s.windowStart());
            for (BigDecimal fraction : l.alertAt()) {
                if (s.used().compareTo(fraction.multiply(s.limit())) < 0) {
                    break;
                }
                String threshold = fraction.stripTrailingZeros().toPlainString();
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("orgId", orgId);
                if (user != null) {
                    data.put("userId", user);
                }
                if (conversation != null) {
                    data.put("conversationId", conversation);
                }
                data.put("limitId", l.id());
                data.put("feature", l.feature());
                data.put("meter", l.meter().wireName());
                data.put("window", l.window().toString());
                data.put("scope", l.scope().wireName());
                data.put("threshold", fraction.stripTrailingZeros());
                data.put("used", Bodies.amount(l, s.used()));
                data.put("limit", Bodies.amount(l, s.limit()));
                data.put("windowStart", s.windowStart());
                data.put("resetsAt", s.resetsAt());
                data.put("planId", planId);
                out.add(new Alert(key("limit", orgId, l.scope().wireName(), subject, l.id(),
                        instance.toString(), threshold), AlertType.LIMIT_THRESHOLD_REACHED, orgId, data));
            }
        }
        return out;
    }

    /** The low-balance alert of the {@code episode}-th downward crossing. */
    public static Alert lowBalance(String orgId, BigDecimal balanceUsd, BigDecimal thresholdUsd, long episode) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("orgId", orgId);
        data.put("balanceUsd", Bodies.money(balanceUsd));
        data.put("thresholdUsd", Bodies.money(thresholdUsd));
        return new Alert(key("balance", orgId, Long.toString(episode)), AlertType.BALANCE_LOW, orgId, data);
    }

    public static Alert expiring(CreditGrant g) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("orgId", g.orgId());
        data.put("grantId", g.id());
        data.put("amountUsd", Bodies.money(g.amountUsd()));
        data.put("expiresAt", g.expiresAt());
        return new Alert(expiringKey(g.id()), AlertType.CREDITS_EXPIRING, g.orgId(), data);
    }

    static String expiringKey(long grantId) {
        return key("credits", Long.toString(grantId));
    }

    private static Instant instance(PlanLimit l, Instant windowStart) {
        String kind = l.window().kind().name();
        if (!kind.startsWith("ROLLING")) {
            return windowStart;
        }
        long length = (kind.endsWith("DAYS") ? Duration.ofDays(l.window().amount())
                : Duration.ofHours(l.window().amount())).getSeconds();
        return Instant.ofEpochSecond(Math.floorDiv(windowStart.getEpochSecond(), length) * length);
    }

    /** A JSON array of the parts: unambiguous whatever characters ids contain. */
    private static String key(String... parts) {
        try {
            return KEYS.writeValueAsString(parts);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
