package dev.metering.api.check;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * "Can this org do this now?" The requested amounts count against limits: {@code quantity}
 * (default 1) for the events and quantity meters, {@code tokens} (default 0) for token meters,
 * {@code costUsd} (default 0) for cost_usd. {@code userId} selects the user for user-scoped
 * limits and {@code conversationId} the conversation for conversation-scoped ones.
 */
public record CheckRequest(String orgId, String feature, long quantity, long tokens, BigDecimal costUsd,
                           String userId, String conversationId) {

    public CheckRequest {
        Objects.requireNonNull(orgId, "orgId");
        Objects.requireNonNull(feature, "feature");
        costUsd = costUsd == null ? BigDecimal.ZERO : costUsd;
        if (quantity < 0 || tokens < 0 || costUsd.signum() < 0) {
            throw new IllegalArgumentException("requested amounts must not be negative");
        }
    }

    /** The value of a dimension parameter named by {@link dev.metering.api.plan.LimitScope#requestField()}. */
    public String dimension(String field) {
        switch (field) {
            case "userId": return userId;
            case "conversationId": return conversationId;
            default: throw new IllegalArgumentException("unknown dimension " + field);
        }
    }

    /** The same request for {@code factor} times the amounts (a reservation's margin; amounts stay far below overflow). */
    public CheckRequest times(int factor) {
        return new CheckRequest(orgId, feature, Math.multiplyExact(quantity, (long) factor),
                Math.multiplyExact(tokens, (long) factor), costUsd.multiply(BigDecimal.valueOf(factor)), userId,
                conversationId);
    }

    public static CheckRequest of(String orgId, String feature) {
        return new CheckRequest(orgId, feature, 1, 0, BigDecimal.ZERO, null, null);
    }
}
