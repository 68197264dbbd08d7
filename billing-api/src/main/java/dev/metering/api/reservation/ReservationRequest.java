package dev.metering.api.reservation;

import dev.metering.api.check.CheckRequest;
import java.math.BigDecimal;
import java.util.Objects;

/** A validated {@code POST .../reservations} body; amounts default as for a check. */
public record ReservationRequest(String orgId, String requestId, String feature, String userId,
                                 String conversationId, long quantity, long tokens, BigDecimal costUsd,
                                 int ttlSeconds) {

    public static final int DEFAULT_TTL_SECONDS = 300;
    public static final int MAX_TTL_SECONDS = 86_400;

    public ReservationRequest {
        Objects.requireNonNull(orgId, "orgId");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(feature, "feature");
        costUsd = costUsd == null ? BigDecimal.ZERO : costUsd;
        if (ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
            throw new IllegalArgumentException("ttlSeconds out of range");
        }
    }

    public CheckRequest check() {
        return new CheckRequest(orgId, feature, quantity, tokens, costUsd, userId, conversationId);
    }
}
