package dev.metering.streams.pricing;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceVersion;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Every known version of one model's price, decoded from a {@link ModelPrice} record (the record
 * itself plus its {@code history}, because the topic is compacted and keeps one record per key).
 */
public final class PriceSchedule {

    private final PriceVersion[] byEffectiveFrom;

    private PriceSchedule(List<PriceVersion> versions) {
        this.byEffectiveFrom = versions.stream()
                .sorted(Comparator.comparingLong(PriceVersion::effectiveFrom))
                .toArray(PriceVersion[]::new);
    }

    public static PriceSchedule of(ModelPrice price) {
        List<PriceVersion> versions = new ArrayList<>();
        versions.add(new PriceVersion(price.getEffectiveFrom().toEpochMilli(), price.getInputPer1MNanos(),
                price.getCachedInputPer1MNanos(), price.getOutputPer1MNanos(), price.getUnitNanos()));
        if (price.getHistory() != null) {
            for (ModelPriceVersion v : price.getHistory()) {
                versions.add(new PriceVersion(v.getEffectiveFrom().toEpochMilli(), v.getInputPer1MNanos(),
                        v.getCachedInputPer1MNanos(), v.getOutputPer1MNanos(), v.getUnitNanos()));
            }
        }
        return new PriceSchedule(versions);
    }

    /**
     * The version in force at {@code occurredAtMillis}: the greatest {@code effectiveFrom <=
     * occurredAt}; null when the event predates every version (then the model has no price at
     * that time and the event is treated like an unknown model).
     */
    public PriceVersion inForceAt(long occurredAtMillis) {
        PriceVersion found = null;
        for (PriceVersion v : byEffectiveFrom) {
            if (v.effectiveFrom() > occurredAtMillis) {
                break;
            }
            found = v;
        }
        return found;
    }
}
