package dev.metering.api.check;

import java.time.Duration;
import java.time.Instant;

/** How current the usage tables are: {@code usageAsOf} from the sink's progress; null when nothing was ever written. */
public record Freshness(Instant usageAsOf, boolean stale) {

    public static Freshness of(Instant usageAsOf, Instant now, Duration maxStaleness) {
        boolean stale = usageAsOf == null || Duration.between(usageAsOf, now).compareTo(maxStaleness) > 0;
        return new Freshness(usageAsOf, stale);
    }

    public static Freshness fresh(Instant asOf) {
        return new Freshness(asOf, false);
    }
}
