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
import java.util.LinkedHashSet;
import java.util.List;
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
 *       Each row remembers the version it last emitted, in the same store and transaction as
 *       its totals, so after a crash the rows updated but not yet emitted are found again (one
 *       scan of the task's rows when the task starts) and emitted: no update is ever lost and
 *       the changelog carries no extra bookkeeping records;</li>
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

    private final long graceMs;
    private final Duration emitInterval;
    private final MeteringMetrics metrics;
    /** Rows changed since the last emission; rebuilt from the store when the task starts. */
    private final Set<Bytes> dirty = new LinkedHashSet<>();
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<Bytes, byte[]> windows;
    private KeyValueStore<String, Long> streamTimeStore;
    private long streamTime = Long.MIN_VALUE;

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
        // rows whose last update was committed but not emitted (a crash between the two)
        try (KeyValueIterator<Bytes, byte[]> it = windows.all()) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> row = it.next();
                if (Totals.decode(row.value).unemitted()) {
                    dirty.add(row.key);
                }
            }
        }
        Duration every = emitInterval.isZero() ? Duration.ofSeconds(1) : emitInterval;
        context.schedule(every, PunctuationType.WALL_CLOCK_TIME, now -> {
            emitDirty(now);
            purgeExpired(now);
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
        byte[] stored = windows.get(key);
        Totals totals = stored == null ? new Totals() : Totals.decode(stored);
        totals.add(e.getOccurredAt().toEpochMilli(), e.getQuantity(), e.getInputTokens(), e.getOutputTokens(),
                e.getCachedInputTokens(), in.unpriced(), in.costFemtos());
        if (emitInterval.isZero()) {
            totals.emittedVersion = totals.version;
            windows.put(key, totals.encode());
            context.forward(new Record<Object, Object>(id.toAvro(), totals.toAvro(), record.timestamp()));
        } else {
            windows.put(key, totals.encode());
            dirty.add(key);
        }
    }

    /** Emits the latest totals of every row changed since the last emission, and remembers it did. */
    private void emitDirty(long now) {
        for (Bytes key : dirty) {
            byte[] stored = windows.get(key);
            if (stored != null) {
                emit(key, Totals.decode(stored), now);
            }
        }
        dirty.clear();
    }

    private void emit(Bytes key, Totals totals, long now) {
        if (totals.unemitted()) {
            context.forward(new Record<Object, Object>(WindowId.decode(key).toAvro(), totals.toAvro(), now));
            totals.emittedVersion = totals.version;
            windows.put(key, totals.encode());
        }
    }

    /** Deletes the rows no event can reach any more (their window end + grace <= stream time). */
    private void purgeExpired(long now) {
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
                emit(row.key, Totals.decode(row.value), now); // never drop an update that was not emitted yet
                windows.delete(row.key);
                dirty.remove(row.key);
            }
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
