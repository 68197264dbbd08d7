package dev.metering.api.webhook;

import java.time.Instant;
import java.util.List;

/** One alert's delivery to one endpoint, with its attempt log. */
public record Delivery(long id, String endpointId, String webhookId, String eventType, String orgId, String status,
                      int attemptCount, Instant nextAttemptAt, Integer lastStatusCode, String lastError,
                      Instant createdAt, Instant finishedAt, List<Attempt> attempts) {

    /** One HTTP attempt: status code null when no response arrived (then {@code error} says why). */
    public record Attempt(int attempt, Instant at, Integer statusCode, String error, long durationMs) {
    }
}
