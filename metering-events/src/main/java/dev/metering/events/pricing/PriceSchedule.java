package dev.metering.events.pricing;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceContextTier;
import dev.metering.avro.ModelPriceServiceTier;
import dev.metering.avro.ModelPriceVersion;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every known version of one model's price, decoded from a {@link ModelPrice} record (the record
 * itself plus its {@code history}, because the topic is compacted and keeps one record per key).
 */
public final class PriceSchedule {

    private final PriceVersionNanos[] byEffectiveFrom;

    private PriceSchedule(List<PriceVersionNanos> versions) {
        this.byEffectiveFrom = versions.stream()
                .sorted(Comparator.comparingLong(PriceVersionNanos::effectiveFrom))
                .toArray(PriceVersionNanos[]::new);
    }

    /** The price book key of a (provider, model) pair, as the prices topic is keyed; an absent part is empty. */
    public static String key(String provider, String model) {
        return (provider == null ? "" : provider) + "/" + (model == null ? "" : model);
    }

    public static PriceSchedule of(ModelPrice price) {
        List<PriceVersionNanos> versions = new ArrayList<>();
        versions.add(new PriceVersionNanos(price.getEffectiveFrom().toEpochMilli(), price.getInputPer1MNanos(),
                price.getCachedInputPer1MNanos(), price.getOutputPer1MNanos(), price.getUnitNanos(),
                price.getCacheWritePer1MNanos(), contextTiers(price.getContextTiers()), serviceTiers(price.getServiceTiers())));
        if (price.getHistory() != null) {
            for (ModelPriceVersion v : price.getHistory()) {
                versions.add(new PriceVersionNanos(v.getEffectiveFrom().toEpochMilli(), v.getInputPer1MNanos(),
                        v.getCachedInputPer1MNanos(), v.getOutputPer1MNanos(), v.getUnitNanos(), v.getCacheWritePer1MNanos(),
                        contextTiers(v.getContextTiers()), serviceTiers(v.getServiceTiers())));
            }
        }
        return new PriceSchedule(versions);
    }

    private static List<PriceVersionNanos.ContextTier> contextTiers(List<ModelPriceContextTier> tiers) {
        if (tiers == null) {
            return List.of();
        }
        return tiers.stream()
                .map(t -> new PriceVersionNanos.ContextTier(t.getAboveInputTokens(), t.getInputPer1MNanos(),
                        t.getCachedInputPer1MNanos(), t.getCacheWritePer1MNanos(), t.getOutputPer1MNanos()))
                .sorted(Comparator.comparingLong(PriceVersionNanos.ContextTier::aboveInputTokens))
                .toList();
    }

    private static Map<String, BigDecimal> serviceTiers(List<ModelPriceServiceTier> tiers) {
        Map<String, BigDecimal> byName = new HashMap<>();
        if (tiers != null) {
            tiers.forEach(t -> byName.put(t.getName().toLowerCase(Locale.ROOT), t.getMultiplier()));
        }
        return byName;
    }

    /**
     * The version in force at {@code occurredAtMillis}: the greatest {@code effectiveFrom <=
     * occurredAt}; null when the event predates every version (then the model has no price at
     * that time and the event is treated like an unknown model).
     */
    public PriceVersionNanos inForceAt(long occurredAtMillis) {
        PriceVersionNanos found = null;
        for (PriceVersionNanos v : byEffectiveFrom) {
            if (v.effectiveFrom() > occurredAtMillis) {
                break;
            }
            found = v;
        }
        return found;
    }
}
