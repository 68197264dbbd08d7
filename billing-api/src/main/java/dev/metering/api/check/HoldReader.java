package dev.metering.api.check;

import java.time.Instant;

/** Reads an org's live reservation holds (see {@link Holds}). */
@FunctionalInterface
public interface HoldReader {

    HoldReader NONE = (orgId, now, usageAsOf) -> Holds.NONE;

    /** @param usageAsOf the usage snapshot the check will read: settled holds it counts are not held */
    Holds live(String orgId, Instant now, Instant usageAsOf);
}
