package dev.metering.api.store;

import static dev.metering.db.jooq.Tables.API_KEYS;
import static dev.metering.db.jooq.Tables.CREDIT_GRANTS;
import static dev.metering.db.jooq.Tables.SINK_PROGRESS;
import static dev.metering.db.jooq.Tables.SUBSCRIPTIONS;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.min;

import dev.metering.api.check.Freshness;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.jooq.DSLContext;

/** What changed since a revision (for cache invalidation across API instances) and sink freshness. */
public final class ChangeRepository {

    /** A changed row: an org's subscription or grant ({@code key == false}), or an API key (id = hash in hex). */
    public record Change(boolean key, String id, long revision) {
    }

    private final DSLContext dsl;
    private final String aggregatesTopic;

    /** @param aggregatesTopic the topic whose sink progress tells how fresh usage is */
    public ChangeRepository(DSLContext dsl, String aggregatesTopic) {
        this.dsl = dsl;
        this.aggregatesTopic = aggregatesTopic;
    }

    public List<Change> since(long revision) {
        List<Change> out = new ArrayList<>();
        dsl.select(SUBSCRIPTIONS.ORG_ID, SUBSCRIPTIONS.REVISION).from(SUBSCRIPTIONS)
                .where(SUBSCRIPTIONS.REVISION.gt(revision))
                .unionAll(dsl.select(CREDIT_GRANTS.ORG_ID, CREDIT_GRANTS.REVISION).from(CREDIT_GRANTS)
                        .where(CREDIT_GRANTS.REVISION.gt(revision)))
                .forEach(r -> out.add(new Change(false, r.value1(), r.value2())));
        dsl.select(API_KEYS.KEY_HASH, API_KEYS.REVISION).from(API_KEYS).where(API_KEYS.REVISION.gt(revision))
                .forEach(r -> out.add(new Change(true, HexFormat.of().formatHex(r.value1()), r.value2())));
        return out;
    }

    /**
     * The pipeline's progress over the aggregates topic's partitions, each the earliest over them,
     * so that one lagging partition, stage or instance makes usage stale, and null when a partition
     * has none: {@code usage_as_of} (every event appended before it is processed by streams and
     * written by the sink), {@code written_at} (the sink wrote everything it was given) and
     * {@code streams_as_of} (streams alone had caught up).
     */
    public Freshness.Progress progress() {
        var r = dsl.select(min(SINK_PROGRESS.USAGE_AS_OF), count().minus(count(SINK_PROGRESS.USAGE_AS_OF)),
                        min(SINK_PROGRESS.WRITTEN_AT),
                        min(SINK_PROGRESS.STREAMS_AS_OF), count().minus(count(SINK_PROGRESS.STREAMS_AS_OF)))
                .from(SINK_PROGRESS).where(SINK_PROGRESS.TOPIC.eq(aggregatesTopic)).fetchOne();
        return new Freshness.Progress(r.value2() == 0 ? instant(r.value1()) : null, instant(r.value3()),
                r.value5() == 0 ? instant(r.value4()) : null);
    }

    /** Usage is complete up to this time (see {@link #progress()}); null when unknown. */
    public Instant usageAsOf() {
        return progress().usageAsOf();
    }

    private static Instant instant(OffsetDateTime t) {
        return t == null ? null : t.toInstant();
    }
}
