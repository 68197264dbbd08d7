package dev.metering.sink;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * One decoded record of {@code metering.usage.aggregates}: the absolute totals of a window key
 * at {@code totals.version}, and where it was read (kept to dead-letter it if it can never be
 * written).
 */
record WindowUpdate(UsageWindowKey key, UsageWindowTotals totals, TopicPartition source, long offset,
                    long recordTimestamp, byte[] rawKey, byte[] rawValue) {

    /** cost_usd is numeric(24,9): nano-USD. */
    static final int COST_SCALE = 9;
    /** costFemtos is in 1e-15 USD. */
    private static final int FEMTO_DIGITS = 15;

    WindowUpdate {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(totals, "totals");
        Objects.requireNonNull(source, "source");
    }

    long version() {
        return totals.getVersion();
    }

    /**
     * The window's exact cost rounded ONCE to the 9 decimals of {@code cost_usd}, HALF_EVEN
     * (banker's rounding: no upward bias when many windows are summed). Streams keeps the total in
     * femto-USD with no rounding at all, so the stored value is the exact total's nearest nano-USD;
     * a report summing N windows may differ from the exact grand total by at most N x 0.5 nano-USD.
     */
    BigDecimal costUsd() {
        return costUsd(totals.getCostFemtos());
    }

    static BigDecimal costUsd(BigDecimal costFemtos) {
        return costFemtos.movePointLeft(FEMTO_DIGITS).setScale(COST_SCALE, RoundingMode.HALF_EVEN);
    }
}
