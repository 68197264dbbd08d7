package dev.metering.events;

import dev.metering.events.config.ConfigSource;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The pipeline's topic names (docs/contract.md, Topics), built once from the configured prefix
 * ({@code METERING_TOPIC_PREFIX}, default {@code metering.}). Code never spells a topic name
 * as a string literal; it asks this record.
 *
 * @param prefix the prefix every topic name starts with, e.g. {@code metering.}
 */
public record Topics(String prefix) {

    /** The default prefix, {@code metering.}. */
    public static final String DEFAULT_PREFIX = "metering.";
    /** The variable the prefix is read from. */
    public static final String PREFIX_VARIABLE = "METERING_TOPIC_PREFIX";

    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]*");

    public Topics {
        Objects.requireNonNull(prefix, "prefix");
        if (!LEGAL.matcher(prefix).matches()) {
            throw new IllegalArgumentException("topic prefix '" + prefix + "' may only contain [a-zA-Z0-9._-]");
        }
    }

    /**
     * The topics of {@code METERING_TOPIC_PREFIX} (default {@code metering.}). An illegal prefix is
     * recorded as a problem of {@code source}, reported with every other one, and the default
     * topics are returned meanwhile.
     */
    public static Topics from(ConfigSource source) {
        try {
            return new Topics(source.string(PREFIX_VARIABLE, DEFAULT_PREFIX));
        } catch (IllegalArgumentException e) {
            source.problem(PREFIX_VARIABLE, e.getMessage());
            return defaults();
        }
    }

    /** The topics with the default prefix. */
    public static Topics defaults() {
        return new Topics(DEFAULT_PREFIX);
    }

    /** Raw usage events: key orgId (UTF-8), value {@code UsageEvent}. The log replays start from. */
    public String events() {
        return prefix + "usage.events";
    }

    /** The compacted price book: key {@code provider/model}, value {@code ModelPrice}. */
    public String prices() {
        return prefix + "prices";
    }

    /** Window totals from streams to the sink: key {@code UsageWindowKey}, value {@code UsageWindowTotals}. */
    public String aggregates() {
        return prefix + "usage.aggregates";
    }

    /**
     * Every counted event once, after dedupe and pricing: key orgId, value {@code PricedUsageEvent}.
     * Written only when the event log is on ({@code METERING_EVENT_LOG=on}).
     */
    public String priced() {
        return prefix + "usage.priced";
    }

    /** What the pipeline refused: original key and value bytes, reason in {@link DeadLetterHeaders}. */
    public String deadLetters() {
        return prefix + "usage.dlq";
    }
}
