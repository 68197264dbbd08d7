package dev.metering.api.event;

import java.math.BigDecimal;
import java.time.Instant;

/** One counted event of {@code metering.usage_events}, with its cost as priced (absent dimensions null). */
public record LoggedEvent(String eventId, String orgId, Instant occurredAt, String feature, String userId,
                          String conversationId, String provider, String model, String source, long quantity,
                          long inputTokens, long outputTokens, long cachedInputTokens, BigDecimal costUsd,
                          boolean priced, Instant priceEffectiveFrom, Instant recordedAt, long cacheWriteTokens,
                          long reasoningTokens, String serviceTier) {
}
