package dev.metering.streams.dedupe;

import dev.metering.avro.UsageEvent;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.metrics.MeteringMetrics;
import java.time.Duration;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>Speed: a {@link SeenFilter} in memory (fingerprints of the store's keys, rebuilt from the
 * store at start) proves most events new without the store's ranged fetch; only a possible
 * duplicate is fetched. The store stays the one source of truth.
 */
public final class DedupeStage implements FixedKeyProcessor<String, MeteredEvent, MeteredEvent> {

    public static final String STORE = "dedupe-store";

    private static final Logger LOG = LoggerFactory.getLogger(DedupeStage.class);

    private final Duration retention;
    private final MeteringMetrics metrics;
    private final SeenFilter.Budget budget;
    private FixedKeyProcessorContext<String, MeteredEvent> context;
    private WindowStore<String, Long> seen;
    private SeenFilter filter;

    DedupeStage(Duration retention, MeteringMetrics metrics, SeenFilter.Budget budget) {
        this.retention = retention;
        this.metrics = metrics;
        this.budget = budget;
    }

    /** The supplier, with its store: retention = {@code grace + margin}. */
    public static FixedKeyProcessorSupplier<String, MeteredEvent, MeteredEvent> supplier(Duration grace, Duration margin,
            MeteringMetrics metrics) {
        Duration retention = grace.plus(margin);
        // one memory budget for the in-memory indexes of all tasks of this topology instance
        SeenFilter.Budget budget = SeenFilter.Budget.ofHeap();
        return new FixedKeyProcessorSupplier<>() {
            @Override
            public FixedKeyProcessor<String, MeteredEvent, MeteredEvent> get() {
                return new DedupeStage(retention, metrics, budget);
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
        // called after the store is restored: the index starts with every key the store holds
        if (filter != null) {
            filter.release(); // a task re-initialized after a failure
        }
        this.filter = new SeenFilter(retention.toMillis(), budget);
        long started = System.nanoTime();
        try (KeyValueIterator<Windowed<String>, Long> all = seen.all()) {
            filter.addAll(all);
        }
        if (filter.isOff()) {
            warnIndexOff();
        } else if (filter.entries() > 0) {
            LOG.info("dedupe index of task {}: {} keys from the store in {} ms", context.taskId(), filter.entries(),
                    (System.nanoTime() - started) / 1_000_000);
        }
    }

    @Override
    public void process(FixedKeyRecord<String, MeteredEvent> record) {
        UsageEvent event = record.value().event();
        String key = dedupeKey(event);
        long at = event.getOccurredAt().toEpochMilli();
        long fingerprint = SeenFilter.fingerprint(key);
        if (filter.mightContain(fingerprint)) { // else certainly new: no store look-up
            long from = Math.max(0, at - retention.toMillis());
            long to = at + retention.toMillis();
            try (WindowStoreIterator<Long> hits = seen.fetch(key, from, to)) {
                if (hits.hasNext()) {
                    metrics.duplicate();
                    return;
                }
            }
        }
        seen.put(key, at, at);
        boolean wasOn = !filter.isOff();
        filter.add(fingerprint, at);
        if (wasOn && filter.isOff()) {
            warnIndexOff();
        }
        context.forward(record);
    }

    private void warnIndexOff() {
        LOG.warn("dedupe index of task {} switched off: the keys within the retention exceed the memory budget of the "
                + "indexes (1/8 of the heap, shared by the tasks); every event of the task is looked up in the store until "
                + "it restarts (slower, same result). A larger heap (-Xmx) keeps the index on.", context.taskId());
    }

    @Override
    public void close() {
        if (filter != null) {
            filter.release();
        }
    }

    /** Length-prefixed orgId, so that ("a/b", "c") and ("a", "b/c") never collide. */
    static String dedupeKey(UsageEvent event) {
        String org = event.getOrgId();
        return org.length() + ":" + org + event.getEventId();
    }
}
