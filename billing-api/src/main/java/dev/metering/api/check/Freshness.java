package dev.metering.api.check;

import java.time.Duration;
import java.time.Instant;

/**
 * How current the usage tables are. {@code usageAsOf}: every event appended to the events topic
 * before it has been processed by streams and written by the sink; null when not known.
 * {@code stalled} names the stage that holds usage back when stale, {@code reason} says how
 * (both null when fresh).
 */
public record Freshness(Instant usageAsOf, boolean stale, Stage stalled, String reason) {

    /** The part of the pipeline that stopped moving. */
    public enum Stage {
        /** metering-streams has not processed the events topic (down, in ERROR, or lagging). */
        STREAMS("streams"),
        /** the sink has not written what streams produced (down or behind). */
        SINK("sink"),
        /** this instance cannot read the database, so it does not know. */
        DATABASE("database");

        private final String wireName;

        Stage(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    /** What the sinks recorded in {@code sink_progress}, over the aggregates topic's partitions (each may be null). */
    public record Progress(Instant usageAsOf, Instant sinkAsOf, Instant streamsAsOf) {
        public static final Progress NONE = new Progress(null, null, null);
    }

    public Freshness(Instant usageAsOf, boolean stale) {
        this(usageAsOf, stale, null, stale ? "usage data is older than the staleness bound" : null);
    }

    public static Freshness of(Instant usageAsOf, Instant now, Duration maxStaleness) {
        return new Freshness(usageAsOf, older(usageAsOf, now, maxStaleness));
    }

    /**
     * Stale when {@code usageAsOf} is unknown or older than {@code maxStaleness}; the stalled stage
     * is the first that is itself that old: the database (this instance read nothing since
     * {@code readAt}), the sink ({@code sinkAsOf}: it wrote or heartbeat nothing), streams
     * ({@code streamsAsOf}), else the sink (behind streams).
     */
    public static Freshness of(Progress p, Instant readAt, Instant now, Duration maxStaleness) {
        if (!older(p.usageAsOf(), now, maxStaleness)) {
            return new Freshness(p.usageAsOf(), false, null, null);
        }
        if (older(readAt, now, maxStaleness)) {
            return new Freshness(p.usageAsOf(), true, Stage.DATABASE,
                    "the database could not be read since " + (readAt == null ? "start-up" : readAt));
        }
        if (older(p.sinkAsOf(), now, maxStaleness)) {
            return new Freshness(p.usageAsOf(), true, Stage.SINK, p.sinkAsOf() == null
                    ? "the sink has not written any progress"
                    : "the sink has written nothing since " + p.sinkAsOf());
        }
        if (older(p.streamsAsOf(), now, maxStaleness)) {
            return new Freshness(p.usageAsOf(), true, Stage.STREAMS, p.streamsAsOf() == null
                    ? "metering-streams has not been seen processing the events topic"
                    : "metering-streams has not processed the events appended since " + p.streamsAsOf());
        }
        return new Freshness(p.usageAsOf(), true, Stage.SINK,
                "the sink has not written the aggregates of the events appended since " + p.usageAsOf());
    }

    /** The same freshness, stale because this instance cannot read the database now. */
    public Freshness databaseDown() {
        return new Freshness(usageAsOf, true, Stage.DATABASE, "the database is unavailable");
    }

    public static Freshness fresh(Instant asOf) {
        return new Freshness(asOf, false, null, null);
    }

    private static boolean older(Instant t, Instant now, Duration max) {
        return t == null || Duration.between(t, now).compareTo(max) > 0;
    }
}
