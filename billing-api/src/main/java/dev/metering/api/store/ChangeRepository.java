package dev.metering.api.store;

import static dev.metering.db.jooq.Tables.API_KEYS;
import static dev.metering.db.jooq.Tables.CREDIT_GRANTS;
import static dev.metering.db.jooq.Tables.SINK_PROGRESS;
import static dev.metering.db.jooq.Tables.SUBSCRIPTIONS;
import static org.jooq.impl.DSL.max;

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

    public ChangeRepository(DSLContext dsl) {
        this.dsl = dsl;
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

    /** When the sink last wrote (greatest written_at over partitions); null when it never did. */
    public Instant usageAsOf() {
        OffsetDateTime t = dsl.select(max(SINK_PROGRESS.WRITTEN_AT)).from(SINK_PROGRESS).fetchOne(0, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
