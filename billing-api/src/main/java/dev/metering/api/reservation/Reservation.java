package dev.metering.api.reservation;

import java.math.BigDecimal;
import java.time.Instant;

/** One stored reservation (a row of {@code reservations}); {@code answer} is the JSON answered when it was made. */
public record Reservation(String id, String orgId, String requestId, String feature, String userId,
                          String conversationId, long quantity, long tokens, BigDecimal costUsd, int ttlSeconds,
                          Instant createdAt, Instant expiresAt, Instant settledAt, String eventId, Instant releasedAt,
                          String answer) {

    /** {@code held}, {@code settled}, {@code released} or {@code expired}, as of {@code now}. */
    public String status(Instant now) {
        if (settledAt != null) {
            return "settled";
        }
        if (releasedAt != null) {
            return "released";
        }
        return expiresAt.isAfter(now) ? "held" : "expired";
    }

    /** Whether a retry asks for the same thing (same feature, dimensions and amounts). */
    public boolean sameRequest(ReservationRequest r) {
        return feature.equals(r.feature()) && java.util.Objects.equals(userId, r.userId())
                && java.util.Objects.equals(conversationId, r.conversationId()) && quantity == r.quantity()
                && tokens == r.tokens() && costUsd.compareTo(r.costUsd()) == 0 && ttlSeconds == r.ttlSeconds();
    }
}
