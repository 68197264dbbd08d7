package dev.metering.api.it;

import static dev.metering.db.jooq.Tables.ORG_USAGE_DAILY;
import static dev.metering.db.jooq.Tables.ORG_USAGE_HOURLY;
import static dev.metering.db.jooq.Tables.SINK_PROGRESS;
import static dev.metering.db.jooq.Tables.USAGE_DAILY;
import static dev.metering.db.jooq.Tables.USAGE_HOURLY;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.impl.DSL;

/**
 * Writes usage rows the way metering-sink does: ABSOLUTE window totals (hour and day, detail
 * and org grain) upserted with a growing version, plus sink progress. Keeps the running totals
 * in memory so each write carries the new absolute total.
 */
public final class SinkRows {

    private record Key(String table, String org, String user, String feature, String model, Instant window) {
    }

    private record Totals(long events, long quantity, long input, long output, BigDecimal cost) {
        Totals plus(Totals o) {
            return new Totals(events + o.events, quantity + o.quantity, input + o.input, output + o.output, cost.add(o.cost));
        }
    }

    private final DSLContext dsl;
    private final Map<Key, Totals> totals = new HashMap<>();
    private long version;

    public SinkRows(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** One or more events of {@code org} at {@code at}: {@code quantity} units, tokens and cost. */
    public SinkRows usage(String org, String user, String feature, Instant at, long events, long quantity,
                          long inputTokens, long outputTokens, String costUsd) {
        return usage(org, user, feature, "", "", at, events, quantity, inputTokens, outputTokens, costUsd);
    }

    /** The same for one model ({@code provider}/{@code model} in the detail tables). */
    public SinkRows usage(String org, String user, String feature, String provider, String model, Instant at,
                          long events, long quantity, long inputTokens, long outputTokens, String costUsd) {
        Totals add = new Totals(events, quantity, inputTokens, outputTokens, new BigDecimal(costUsd));
        Instant hour = at.truncatedTo(ChronoUnit.HOURS);
        Instant day = at.truncatedTo(ChronoUnit.DAYS);
        // one transaction, as the sink writes a batch: a reader never sees the detail row without its org rows
        dsl.transaction(tx -> {
            detail(tx.dsl(), USAGE_HOURLY, org, user, feature, provider, model, hour, at, add);
            detail(tx.dsl(), USAGE_DAILY, org, user, feature, provider, model, day, at, add);
            orgGrain(tx.dsl(), ORG_USAGE_HOURLY, org, feature, hour, at, add);
            orgGrain(tx.dsl(), ORG_USAGE_DAILY, org, feature, day, at, add);
        });
        return this;
    }

    public SinkRows messages(String org, String user, Instant at, long n) {
        return usage(org, user, "CHAT_MESSAGE", at, n, n, 0, 0, "0");
    }

    public SinkRows cost(String org, String feature, Instant at, String costUsd) {
        return usage(org, "", feature, at, 1, 1, 0, 0, costUsd);
    }

    /** The sink wrote partition 0 of the aggregates topic at {@code writtenAt}. */
    public SinkRows progress(Instant writtenAt) {
        return progress("metering.usage.aggregates", 0, writtenAt);
    }

    /**
     * The sink had written everything of {@code topic}/{@code partition} at {@code writtenAt}, and
     * every event appended before it had gone through streams and the sink.
     */
    public SinkRows progress(String topic, int partition, Instant writtenAt) {
        OffsetDateTime t = writtenAt.atOffset(ZoneOffset.UTC);
        dsl.insertInto(SINK_PROGRESS)
                .set(SINK_PROGRESS.TOPIC, topic)
                .set(SINK_PROGRESS.KAFKA_PARTITION, partition)
                .set(SINK_PROGRESS.NEXT_OFFSET, ++version)
                .set(SINK_PROGRESS.NEWEST_EVENT_AT, t)
                .set(SINK_PROGRESS.WRITTEN_AT, t)
                .set(SINK_PROGRESS.USAGE_AS_OF, t)
                .set(SINK_PROGRESS.STREAMS_AS_OF, t)
                .onConflict(SINK_PROGRESS.TOPIC, SINK_PROGRESS.KAFKA_PARTITION)
                .doUpdate()
                .set(SINK_PROGRESS.NEXT_OFFSET, version)
                .set(SINK_PROGRESS.NEWEST_EVENT_AT, t)
                .set(SINK_PROGRESS.WRITTEN_AT, t)
                .set(SINK_PROGRESS.USAGE_AS_OF, t)
                .set(SINK_PROGRESS.STREAMS_AS_OF, t)
                .execute();
        return this;
    }

    private Totals accumulate(Key k, Totals add) {
        return totals.merge(k, add, Totals::plus);
    }

    @SuppressWarnings("unchecked")
    private void detail(DSLContext dsl, Table<?> t, String org, String user, String feature, String provider, String model,
                        Instant window, Instant at, Totals add) {
        Totals abs = accumulate(new Key(t.getName(), org, user, feature, provider + "/" + model, window), add);
        long v = ++version;
        OffsetDateTime w = window.atOffset(ZoneOffset.UTC);
        OffsetDateTime e = at.atOffset(ZoneOffset.UTC);
        Table<Record> table = (Table<Record>) t;
        dsl.insertInto(table)
                .set(f(t, "org_id"), org).set(f(t, "user_id"), user).set(f(t, "feature"), feature)
                .set(f(t, "provider"), provider).set(f(t, "model"), model)
                .set(DSL.field(DSL.name("window_start"), OffsetDateTime.class), w)
                .set(values(abs, e, v))
                .onConflict(DSL.field(DSL.name("org_id")), DSL.field(DSL.name("window_start")), DSL.field(DSL.name("user_id")),
                        DSL.field(DSL.name("feature")), DSL.field(DSL.name("provider")), DSL.field(DSL.name("model")))
                .doUpdate().set(values(abs, e, v))
                .where(DSL.field(DSL.name(t.getName(), "version"), Long.class).lt(v))
                .execute();
    }

    @SuppressWarnings("unchecked")
    private void orgGrain(DSLContext dsl, Table<?> t, String org, String feature, Instant window, Instant at, Totals add) {
        Totals abs = accumulate(new Key(t.getName(), org, null, feature, null, window), add);
        long v = ++version;
        OffsetDateTime w = window.atOffset(ZoneOffset.UTC);
        OffsetDateTime e = at.atOffset(ZoneOffset.UTC);
        Table<Record> table = (Table<Record>) t;
        dsl.insertInto(table)
                .set(f(t, "org_id"), org).set(f(t, "feature"), feature)
                .set(DSL.field(DSL.name("window_start"), OffsetDateTime.class), w)
                .set(values(abs, e, v))
                .onConflict(DSL.field(DSL.name("org_id")), DSL.field(DSL.name("feature")), DSL.field(DSL.name("window_start")))
                .doUpdate().set(values(abs, e, v))
                .where(DSL.field(DSL.name(t.getName(), "version"), Long.class).lt(v))
                .execute();
    }

    private static org.jooq.Field<String> f(Table<?> t, String name) {
        return DSL.field(DSL.name(name), String.class);
    }

    private static Map<org.jooq.Field<?>, Object> values(Totals abs, OffsetDateTime at, long version) {
        Map<org.jooq.Field<?>, Object> m = new java.util.LinkedHashMap<>();
        m.put(DSL.field(DSL.name("events")), abs.events);
        m.put(DSL.field(DSL.name("quantity")), abs.quantity);
        m.put(DSL.field(DSL.name("input_tokens")), abs.input);
        m.put(DSL.field(DSL.name("output_tokens")), abs.output);
        m.put(DSL.field(DSL.name("cached_input_tokens")), 0L);
        m.put(DSL.field(DSL.name("unpriced_events")), 0L);
        m.put(DSL.field(DSL.name("cost_usd")), abs.cost);
        m.put(DSL.field(DSL.name("first_event_at")), at);
        m.put(DSL.field(DSL.name("last_event_at")), at);
        m.put(DSL.field(DSL.name("updated_at")), at);
        m.put(DSL.field(DSL.name("version")), version);
        return m;
    }
}
