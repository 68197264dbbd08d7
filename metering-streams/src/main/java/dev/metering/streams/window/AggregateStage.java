package dev.metering.streams.window;

import dev.metering.avro.UsageEvent;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.events.DeadLetterHeaders.Reason;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.deadletter.Refusal;
import dev.metering.streams.metrics.MeteringMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * Stage 4: windowed aggregation, HOUR and DAY (UTC, event time) x DETAIL and ORG grains.
 *
 * <p>Input: key orgId, value accepted and priced {@link MeteredEvent}, in the task of the org's
 * partition (every window key starts with the orgId, so no repartition is needed). Output:
 * <ul>
 *   <li>to {@code metering.usage.aggregates}: key {@code UsageWindowKey}, value
 *       {@code UsageWindowTotals}, the ABSOLUTE totals of the row with {@code version} = number
 *       of events folded in; either every update (emit interval 0) or the latest state of every
 *       row changed since the last emission, every emit interval (default: the commit interval;
 *       under exactly-once a reader sees records only at commit anyway, so nothing is lost).
 *       Every emission increments the task's emission epoch (kept with the stream time); each row
 *       records the epoch of its last update, in the same write as its totals. So after a crash
 *       the rows updated since the last committed emission are exactly those with
 *       {@code updatedEpoch >= epoch}: one scan of the task's rows when the task starts finds and
 *       emits them again (re-emitting a row is harmless: absolute totals, same version). No
 *       update is lost and the changelog carries no per-row bookkeeping;</li>
 *   <li>refused events ({@code LATE}) to the dead-letter stage.</li>
 * </ul>
 *
 * <p>Lateness, one rule for every grain so that hourly and daily rows always agree: stream time
 * is the greatest {@code occurredAt} this task has accepted (kept in {@value #STREAM_TIME_STORE},
 * so a restart keeps it); an event is LATE when the end of its HOUR window plus the grace is
 * {@code <=} stream time. A DAY row is kept until its last hour is closed (day end + grace).
 * Rows past that are purged by a punctuator, after their last update was emitted.
 *
 * <p>Guarantee (with {@code exactly_once_v2}): every accepted event is folded into exactly four
 * rows exactly once; rows (with their emitted version), stream time, output records and input
 * offsets commit in one transaction, so a crash and restart changes no total.
 */
public final class AggregateStage implements Processor<String, MeteredEvent, Object, Object> {

    public static final String STAGE = "aggregate";
    public static final String WINDOWS_STORE = "aggregate-windows-store";
    public static final String STREAM_TIME_STORE = "aggregate-stream-time-store";

    private static final String STREAM_TIME_KEY = "stream-time";
    private static final String EPOCH_KEY = "emission-epoch";

    private final long graceMs;
    private final Duration emitInterval;
    private final MeteringMetrics metrics;
    /**
     * Rows changed since the last emission, with their identity and latest totals (the same
     * object as last written to the store, so a busy row is read from here, not through the
     * store cache, and emitted without decoding its key); rebuilt from the store when the task
     * starts.
     */
    private final Map<Bytes, Pending> dirty = new LinkedHashMap<>();
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<Bytes, byte[]> windows;
    private KeyValueStore<String, Long> streamTimeStore;
    private long streamTime = Long.MIN_VALUE;
    private long epoch;

    AggregateStage(Duration grace, Duration emitInterval, MeteringMetrics metrics) {
        this.graceMs = grace.toMillis();
        this.emitInterval = emitInterval;
        this.metrics = metrics;
    }

    /**
     * The supplier with its stores (changelogged, with caching: writes reach RocksDB and the
     * changelog once per commit per key, not once per event).
     */
    public static ProcessorSupplier<String, MeteredEvent, Object, Object> supplier(Duration grace, Duration emitInterval,
            MeteringMetrics metrics) {
        return new ProcessorSupplier<>() {
            @Override
            public Processor<String, MeteredEvent, Object, Object> get() {
                return new AggregateStage(grace, emitInterval, metrics);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(WINDOWS_STORE), Serdes.Bytes(),
                                Serdes.ByteArray()).withCachingEnabled(),
                        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STREAM_TIME_STORE), Serdes.String(),
                                Serdes.Long()).withCachingEnabled());
            }
        };
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.windows = context.getStateStore(WINDOWS_STORE);
        this.streamTimeStore = context.getStateStore(STREAM_TIME_STORE);
        Long persisted = streamTimeStore.get(STREAM_TIME_KEY);
        this.streamTime = persisted == null ? Long.MIN_VALUE : persisted;
        Long persistedEpoch = streamTimeStore.get(EPOCH_KEY);
        this.epoch = persistedEpoch == null ? 0 : persistedEpoch;
        // rows updated since the last committed emission (a crash may have come in between);
        // with emit interval 0 every update is emitted in the transaction that makes it
        try (KeyValueIterator<Bytes, byte[]> it = emitInterval.isZero() ? null : windows.all()) {
            while (it != null && it.hasNext()) {
                KeyValue<Bytes, byte[]> row = it.next();
                Totals totals = Totals.decode(row.value);
                if (totals.updatedEpoch >= epoch) {
                    dirty.put(row.key, new Pending(WindowId.decode(row.key), totals));
                }
            }
        }
        Duration every = emitInterval.isZero() ? Duration.ofSeconds(1) : emitInterval;
        context.schedule(every, PunctuationType.WALL_CLOCK_TIME, now -> {
            emitDirty(now);
            purgeExpired();
        });
    }

    @Override
    public void process(Record<String, MeteredEvent> record) {
        MeteredEvent in = record.value();
        UsageEvent e = in.event();
        long at = e.getOccurredAt().toEpochMilli();
        if (at > streamTime) {
            streamTime = at;
            streamTimeStore.put(STREAM_TIME_KEY, at);
        }
        long hourStart = WindowId.startOf(WindowSize.HOUR, at);
        long closesAt = hourStart + WindowId.HOUR_MS + graceMs;
        if (closesAt <= streamTime) {
            metrics.late();
            String why = "occurredAt " + e.getOccurredAt() + " is in the hour window starting " + Instant.ofEpochMilli(hourStart)
                    + ", closed at " + Instant.ofEpochMilli(closesAt) + " (window end + grace " + Duration.ofMillis(graceMs)
                    + "); stream time is " + Instant.ofEpochMilli(streamTime);
            context.forward(record.withKey((Object) record.key()).withValue(in.refuse(new Refusal(Reason.LATE, STAGE, why))));
            return;
        }
        metrics.accepted();
        if (in.unpriced()) {
            metrics.unpriced();
        }
        String user = nz(e.getUserId());
        String provider = nz(e.getProvider());
        String model = nz(e.getModel());
        for (WindowSize size : WindowSize.values()) {
            long start = WindowId.startOf(size, at);
            fold(new WindowId(size, start, WindowGrain.DETAIL, e.getOrgId(), user, e.getFeature(), provider, model), in, record);
            fold(new WindowId(size, start, WindowGrain.ORG, e.getOrgId(), "", e.getFeature(), "", ""), in, record);
        }
    }

    private void fold(WindowId id, MeteredEvent in, Record<String, MeteredEvent> record) {
        UsageEvent e = in.event();
        Bytes key = id.encode();
        // a row changed since the last emission holds exactly what was last written to the store
        Pending pending = dirty.get(key);
        Totals totals;
        if (pending != null) {
            totals = pending.totals();
        } else {
            byte[] stored = windows.get(key);
            totals = stored == null ? new Totals() : Totals.decode(stored);
        }
        totals.add(e.getOccurredAt().toEpochMilli(), e.getQuantity(), e.getInputTokens(), e.getOutputTokens(),
                e.getCachedInputTokens(), in.unpriced(), in.costFemtos());
        totals.updatedEpoch = epoch;
        windows.put(key, totals.encode());
        if (emitInterval.isZero()) {
            context.forward(new Record<Object, Object>(id.toAvro(), totals.toAvro(), record.timestamp()));
        } else if (pending == null) {
            dirty.put(key, new Pending(id, totals));
        }
    }

    /**
     * Emits the latest totals of every row changed since the last emission, then starts a new
     * epoch: once this is committed, every row with {@code updatedEpoch < epoch} was emitted.
     */
    private void emitDirty(long now) {
        if (emitInterval.isZero()) {
            return;
        }
        for (Pending row : dirty.values()) {
            context.forward(new Record<Object, Object>(row.id().toAvro(), row.totals().toAvro(), now));
        }
        dirty.clear();
        epoch++;
        streamTimeStore.put(EPOCH_KEY, epoch);
    }

    /** Deletes the rows no event can reach any more (their window end + grace <= stream time). */
    private void purgeExpired() {
        if (streamTime == Long.MIN_VALUE) {
            return;
        }
        for (WindowSize size : WindowSize.values()) {
            // expired: start + length + grace <= streamTime, i.e. start < streamTime - grace - length + 1
            long cutoff = streamTime - graceMs - WindowId.lengthOf(size) + 1;
            if (cutoff <= 0) {
                continue;
            }
            List<KeyValue<Bytes, byte[]>> expired = new ArrayList<>();
            try (KeyValueIterator<Bytes, byte[]> it = windows.range(WindowId.prefix(size, 0), WindowId.prefix(size, cutoff))) {
                while (it.hasNext()) {
                    expired.add(it.next());
                }
            }
            for (KeyValue<Bytes, byte[]> row : expired) {
                windows.delete(row.key); // emitDirty ran just before: its last update was emitted
            }
        }
    }

    /** A row changed since the last emission: its identity and its latest totals. */
    private record Pending(WindowId id, Totals totals) {
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
