package dev.metering.streams;

import dev.metering.avro.UsageEvent;
import dev.metering.streams.deadletter.Refusal;
import java.math.BigInteger;

/**
 * One event in flight between the stages of {@link MeteringTopology}. It never leaves the
 * process: stages hand it to each other in memory (the only topic in between is the optional
 * re-keying repartition topic, which carries the original bytes, see {@link MeteringTopology}).
 *
 * @param event      the decoded event; null when the record was refused before it could be decoded
 * @param origin     the original record
 * @param refusal    why the record goes to the dead-letter topic; null while it is accepted
 * @param costFemtos the event's exact cost in 1e-15 USD, set by the price stage
 * @param unpriced   true when the event needed a price and none applied (no fallback either)
 */
public record MeteredEvent(UsageEvent event, Origin origin, Refusal refusal, BigInteger costFemtos, boolean unpriced) {

    public static MeteredEvent accepted(UsageEvent event, Origin origin) {
        return new MeteredEvent(event, origin, null, BigInteger.ZERO, false);
    }

    public static MeteredEvent refused(UsageEvent event, Origin origin, Refusal refusal) {
        return new MeteredEvent(event, origin, refusal, BigInteger.ZERO, false);
    }

    public boolean isRefused() {
        return refusal != null;
    }

    public MeteredEvent refuse(Refusal why) {
        return new MeteredEvent(event, origin, why, costFemtos, unpriced);
    }

    public MeteredEvent priced(BigInteger femtos, boolean isUnpriced) {
        return new MeteredEvent(event, origin, refusal, femtos, isUnpriced);
    }
}
