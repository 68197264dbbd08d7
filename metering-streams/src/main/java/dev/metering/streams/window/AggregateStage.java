package dev.metering.streams.window;

import dev.metering.avro.UsageEvent;
import dev.metering.avro.WindowSize;
import dev.metering.events.DeadLetterHeaders.Reason;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.deadletter.Refusal;
import dev.metering.streams.metrics.MeteringMetrics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorNode;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * Stage 4: windowed aggregation, HOUR and DAY (UTC, event time) x DETAIL and ORG grains.
 *
 * <p>Input: key orgId, value accepted and priced {@link MeteredEvent}, in the task of the org's
 * partition (every window key starts with the orgId, so no repartition is needed). Output:
 * <ul>
 *   <li>to {@code metering.usage.aggregates}: key {@code UsageWindowKey}, value
 *       {@code UsageWindowTotals}, the ABSOLUTE totals of the row with {@code version} = number
 *       of events folded in: at every commit, the latest state of every row changed since the
 *       previous commit ({@link WindowRowsStore}: written to the store and emitted in the same
 *       pass, before the offsets commit). Under exactly-once a reader sees records only at commit
 *       anyway, so the commit interval is the emission interval and nothing is held back;</li>
 *   <li>refused events ({@code LATE}) to the dead-letter stage.</li>
 * </ul>
 *
 * <p>Lateness, one rule for every grain so that hourly and daily rows always agree: stream time
 * is the greatest {@code occurredAt} this task has accepted (kept in the rows store, so a restart
 * keeps it); an event is LATE when the end of its HOUR window plus the grace is {@code <=} stream
 * time. A DAY row is kept until its last hour is closed (day end + grace). Rows past that are
 * purged at a commit (at most once a minute), after their last update was emitted.
 *
 * <p>Guarantee (with {@code exactly_once_v2}): every accepted event is folded into exactly four
 * rows exactly once; rows, stream time, output records and input offsets commit in one
 * transaction, so a crash and restart changes no total.
 */
public final class AggregateStage implements Processor<String, MeteredEvent, Object, Object> {

    public static final String STAGE = "aggregate";
    public static final String WINDOWS_STORE = "aggregate-windows-store";

    /** Beside the rows, outside every window key range (window keys start with a size ordinal, 0 or 1). */
    static final Bytes STREAM_TIME_KEY = Bytes.wrap(new byte[] {0x7f, 's', 't'});
    private static final long PURGE_EVERY_MS = 60_000L;

    private final long graceMs;
    private final MeteringMetrics metrics;
    private ProcessorContext<Object, Object> context;
    private InternalProcessorContext<Object, Object> internal;
    private ProcessorNode<?, ?, ?, ?> node;
    private WindowRowsStore rows;
    private long streamTime = Long.MIN_VALUE;
    private long lastPurge = Long.MIN_VALUE;

    AggregateStage(Duration grace, MeteringMetrics metrics) {
        this.graceMs = grace.toMillis();
        this.metrics = metrics;
    }

    /** The supplier with its store (changelogged; rows changed within a commit are written once). */
    public static ProcessorSupplier<String, MeteredEvent, Object, Object> supplier(Duration grace, MeteringMetrics metrics) {
        return new ProcessorSupplier<>() {
            @Override
            public Processor<String, MeteredEvent, Object, Object> get() {
                return new AggregateStage(grace, metrics);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(WindowRowsStore.builder(WINDOWS_STORE));
            }
        };
    }

    @Override
    @SuppressWarnings("unchecked")
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        // rows are emitted from the commit, outside process(): forwarding then needs this node
        // as the current one, as Kafka Streams' own cache flush listeners do
        this.internal = (InternalProcessorContext<Object, Object>) context;
        this.node = internal.currentNode();
        this.rows = context.getStateStore(WINDOWS_STORE);
        byte[] persisted = rows.getMeta(STREAM_TIME_KEY);
        this.streamTime = persisted == null ? Long.MIN_VALUE : ByteBuffer.wrap(persisted).getLong();
        rows.onCommit(this::emit);
    }

    @Override
    public void process(Record<String, MeteredEvent> record) {
        MeteredEvent in = record.value();
        UsageEvent e = in.event();
        long at = e.getOccurredAt().toEpochMilli();
        if (at > streamTime) {
            streamTime = at;
            rows.putMeta(STREAM_TIME_KEY, ByteBuffer.allocate(8).putLong(at).array());
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
        WindowId.Dimensions dims = WindowId.Dimensions.of(e.getOrgId(), nz(e.getUserId()), e.getFeature(), nz(e.getProvider()),
                nz(e.getModel()));
        for (WindowSize size : WindowSize.values()) {
            long start = WindowId.startOf(size, at);
            fold(dims.detail(size, start), in);
            fold(dims.org(size, start), in);
        }
    }

    private void fold(WindowId.Keyed id, MeteredEvent in) {
        UsageEvent e = in.event();
        Totals totals = rows.rowForUpdate(id.key(), id.id()).totals();
        totals.add(e.getOccurredAt().toEpochMilli(), e.getQuantity(), e.getInputTokens(), e.getOutputTokens(),
                e.getCachedInputTokens(), in.unpriced(), in.costFemtos());
    }

    /** At a commit: emits the latest totals of every row changed since the previous commit, then purges. */
    private void emit(Collection<WindowRowsStore.Row> changed) {
        ProcessorNode<?, ?, ?, ?> previous = internal.currentNode();
        internal.setCurrentNode(node);
        try {
            long now = context.currentSystemTimeMs();
            for (WindowRowsStore.Row row : changed) {
                // the sink node serializes within forward(), before the next event changes these totals
                context.forward(new Record<Object, Object>(row.id(), row.totals(), now));
            }
            if (lastPurge == Long.MIN_VALUE || now - lastPurge >= PURGE_EVERY_MS) {
                lastPurge = now;
                purgeExpired();
            }
        } finally {
            internal.setCurrentNode(previous);
        }
    }

    /** Deletes the rows no event can reach any more (their window end + grace <= stream time). */
    private void purgeExpired() {
        if (streamTime == Long.MIN_VALUE) {
            return;
        }
        KeyValueStore<Bytes, byte[]> committed = rows.committed();
        for (WindowSize size : WindowSize.values()) {
            // expired: start + length + grace <= streamTime, i.e. start < streamTime - grace - length + 1
            long cutoff = streamTime - graceMs - WindowId.lengthOf(size) + 1;
            if (cutoff <= 0) {
                continue;
            }
            List<Bytes> expired = new ArrayList<>();
            try (KeyValueIterator<Bytes, byte[]> it = committed.range(WindowId.prefix(size, 0), WindowId.prefix(size, cutoff))) {
                while (it.hasNext()) {
                    expired.add(it.next().key);
                }
            }
            for (Bytes key : expired) {
                committed.delete(key); // written and emitted just before, in this commit
            }
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
