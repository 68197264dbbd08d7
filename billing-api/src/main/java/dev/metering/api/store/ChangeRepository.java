package dev.metering.api.store;

import static dev.metering.db.jooq.Tables.API_KEYS;
import static dev.metering.db.jooq.Tables.CREDIT_GRANTS;
import static dev.metering.db.jooq.Tables.SINK_PROGRESS;
import static dev.metering.db.jooq.Tables.SUBSCRIPTIONS;
import static org.jooq.impl.DSL.min;

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
     * Usage is complete up to this time: the earliest {@code written_at} over the aggregates
     * topic's partitions, each being the last time the sink had written everything it was given
     * from that partition (it also advances it when idle and caught up). The earliest, so that one
     * lagging partition or sink instance makes usage stale; null when the sink never wrote.
     */
    public Instant usageAsOf() {
        OffsetDateTime t = dsl.select(min(SINK_PROGRESS.WRITTEN_AT)).from(SINK_PROGRESS)
                .where(SINK_PROGRESS.TOPIC.eq(aggregatesTopic)).fetchOne(0, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
