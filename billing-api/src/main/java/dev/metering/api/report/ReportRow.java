package dev.metering.api.report;

import java.math.BigDecimal;
import java.time.Instant;

/** Totals of one period and group; absent group columns are null, absent dimensions {@code ""}. */
public record ReportRow(Instant period, String feature, String provider, String model, String userId, long events,
                        long quantity, long inputTokens, long outputTokens, long cachedInputTokens, long unpricedEvents,
                        BigDecimal costUsd) {

    public long tokens() {
        return inputTokens + outputTokens;
    }
}
