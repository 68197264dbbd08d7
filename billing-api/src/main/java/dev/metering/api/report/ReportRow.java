package dev.metering.api.report;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * Totals of one period and group; absent group columns are null, absent dimensions {@code ""}.
 * {@code cacheWriteTokens} are disjoint from the input and cached input tokens; {@code reasoningTokens}
 * are a part of {@code outputTokens}.
 */
public record ReportRow(Instant period, String feature, String provider, String model, String userId, long events,
                        long quantity, long inputTokens, long outputTokens, long cachedInputTokens, long unpricedEvents,
                        BigDecimal costUsd, long cacheWriteTokens, long reasoningTokens) {

    public long tokens() {
        return inputTokens + outputTokens;
    }
}
