package dev.metering.streams.dedupe;

import dev.metering.avro.UsageEvent;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.metrics.MeteringMetrics;
import java.time.Duration;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * Stage 2: dedupe by (orgId, eventId).
 *
 * <p>Input and output: key orgId (String), value accepted {@link MeteredEvent}; in the same task
 * as the input partition (no repartition: the input is partitioned by orgId, so all copies of an
 * event meet here). State: the windowed store {@value #STORE} keyed {@code (orgId, eventId)},
 * one entry per event at its {@code occurredAt}, retained for the grace period plus a margin
 * (old segments are dropped by the store itself), changelogged.
 *
 * <p>Guarantee: an event whose (orgId, eventId) was already seen within the retention is
 * dropped and counted in the duplicates metric, whatever its {@code occurredAt} (a retry that
 * re-stamped the time is still a duplicate). The retention is at least grace + 1 hour: an
 * event older than that is refused as LATE by the aggregate stage anyway, so no event can be
 * counted twice. Under exactly-once the store and the offsets commit together, so a replay
 * after a crash sees exactly the entries of the committed input.
 */
public final class DedupeStage implements FixedKeyProcessor<String, MeteredEvent, MeteredEvent> {

    public static final String STORE = "dedupe-store";

    private final Duration retention;
    private final MeteringMetrics metrics;
    private FixedKeyProcessorContext<String, MeteredEvent> context;
    private WindowStore<String, Long> seen;

    DedupeStage(Duration retention, MeteringMetrics metrics) {
        this.retention = retention;
        this.metrics = metrics;
    }

    /** The supplier, with its store: retention = {@code grace + margin}. */
    public static FixedKeyProcessorSupplier<String, MeteredEvent, MeteredEvent> supplier(Duration grace, Duration margin,
            MeteringMetrics metrics) {
        Duration retention = grace.plus(margin);
        return new FixedKeyProcessorSupplier<>() {
            @Override
            public FixedKeyProcessor<String, MeteredEvent, MeteredEvent> get() {
                return new DedupeStage(retention, metrics);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                // window size 1 ms: an entry is a point in time; the store only serves as an
                // expiring set of (orgId, eventId)
                StoreBuilder<WindowStore<String, Long>> store = Stores.windowStoreBuilder(
                        Stores.persistentWindowStore(STORE, retention, Duration.ofMillis(1), false),
                        Serdes.String(), Serdes.Long());
                return Set.of(store);
            }
        };
    }

    @Override
    public void init(FixedKeyProcessorContext<String, MeteredEvent> context) {
        this.context = context;
        this.seen = context.getStateStore(STORE);
    }

    @Override
    public void process(FixedKeyRecord<String, MeteredEvent> record) {
        UsageEvent event = record.value().event();
        String key = dedupeKey(event);
        long at = event.getOccurredAt().toEpochMilli();
        long from = Math.max(0, at - retention.toMillis());
        long to = at + retention.toMillis();
        try (WindowStoreIterator<Long> hits = seen.fetch(key, from, to)) {
            if (hits.hasNext()) {
                metrics.duplicate();
                return;
            }
        }
        seen.put(key, at, at);
        context.forward(record);
    }

    /** Length-prefixed orgId, so that ("a/b", "c") and ("a", "b/c") never collide. */
    static String dedupeKey(UsageEvent event) {
        String org = event.getOrgId();
        return org.length() + ":" + org + event.getEventId();
    }
}
