package dev.metering.events;

/**
 * Header names on {@code metering.usage.dlq} records (docs/contract.md, Topics). A dead letter keeps the
 * original key and value bytes untouched; these headers say why it was refused and where it came
 * from. Numbers and times are UTF-8 decimal strings (timestamp: epoch millis).
 */
public final class DeadLetterHeaders {

    /** Why: one of {@link Reason}'s names. */
    public static final String REASON = "metering.error.reason";
    /** A human-readable explanation; for INVALID it lists every problem. */
    public static final String MESSAGE = "metering.error.message";
    /** The stage that refused the record, e.g. {@code validate}, {@code aggregate}, {@code sink}. */
    public static final String STAGE = "metering.error.stage";
    /** The topic the record was read from. */
    public static final String ORIGINAL_TOPIC = "metering.error.topic";
    /** The partition the record was read from. */
    public static final String ORIGINAL_PARTITION = "metering.error.partition";
    /** The offset the record was read from. */
    public static final String ORIGINAL_OFFSET = "metering.error.offset";
    /** The original record's timestamp, epoch millis. */
    public static final String ORIGINAL_TIMESTAMP = "metering.error.timestamp";

    /** Why a record was refused (contract). */
    public enum Reason {
        /** The bytes are not a Confluent wire-format Avro record (wrong magic byte, truncated, undecodable). */
        MALFORMED,
        /** The schema id in the bytes is not known to the registry. */
        UNKNOWN_SCHEMA,
        /** Decoded, but breaks a rule of UsageEvent (docs/contract.md). */
        INVALID,
        /** Older than the aggregation grace period allows. */
        LATE
    }

    private DeadLetterHeaders() {
    }
}
