package dev.metering.streams.window;

import dev.metering.avro.UsageEvent;
import dev.metering.avro.WindowSize;
import dev.metering.events.DeadLetterHeaders.Reason;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.deadletter.Refusal;
import dev.metering.streams.metrics.MeteringMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * Stage 4: aggregation into the rows the checks and reports read (docs/architecture.md): DETAIL (org,
 * user, feature, provider, model) per HOUR; ORG (org, feature) per HOUR and DAY (UTC, event time);
 * CONVERSATION (org, conversation, feature) over the conversation's life, for events that name one.
 *
 * <p>Input: key orgId, value accepted and priced {@link MeteredEvent}, in the task of the org's
 * partition (every row key starts with the orgId, so no repartition is needed). Output:
 * <ul>
 *   <li>to {@code metering.usage.aggregates}: key {@link WindowId}, value {@link Totals}, the
 *       ABSOLUTE totals of the row with {@code version} = number of events folded in, emitted by a
 *       wall-clock punctuator every emission interval for each row changed since the last one
 *       ({@link PendingRows}: crash-safe, public API only);</li>
 *   <li>each counted event, when the event log is on (value: the accepted {@link MeteredEvent});</li>
 *   <li>refused events ({@code LATE}) to the dead-letter stage.</li>
 * </ul>
 *
 * <p>Lateness, one rule for every grain: stream time is the greatest {@code occurredAt} this task
 * has accepted (the newest {@code lastEventAt} of the stored rows, so a restart keeps it); an event is LATE when the end of its
 * HOUR window plus the grace is {@code <=} stream time. A DAY row is kept until its last hour is
 * closed (day end + grace); a CONVERSATION row until no event reached it for the conversation TTL
 * of stream time. Rows past that are purged (at most once a minute), after their last update was
 * emitted.
 *
 * <p>Guarantee (with {@code exactly_once_v2}): every accepted event is folded into each of its
 * rows exactly once; rows, stream time, output records and input offsets commit in one
 * transaction, so a crash and restart changes no total and loses no emission.
 */
public final class AggregateStage implements Processor<String, MeteredEvent, Object, Object> {

    public static final String STAGE = "aggregate";
    public static final String WINDOWS_STORE = "aggregate-windows-store";
    /** The rows' further writes within an emission epoch, behind the record cache ({@link RowStore}). */
    public static final String HOT_ROWS_STORE = "aggregate-hot-rows-store";

    private static final long PURGE_EVERY_MS = 60_000L;

    private final long graceMs;
    private final long conversationTtlMs;
    private final Duration emitInterval;
    private final boolean eventLog;
    private final MeteringMetrics metrics;
    private final PendingRows.RowBudget budget;
    private ProcessorContext<Object, Object> context;
    private RowStore store;
    private PendingRows rows;
    private ConversationExpiry conversations;
    private long streamTime = Long.MIN_VALUE;
    private long lastPurge = Long.MIN_VALUE;

    AggregateStage(Settings settings, MeteringMetrics metrics) {
        this(settings, metrics, PendingRows.RowBudget.ofHeap());
    }

    /** With the memory budget for the rows kept in memory, shared by the tasks of an instance. */
    AggregateStage(Settings settings, MeteringMetrics metrics, PendingRows.RowBudget budget) {
        this.budget = budget;
        this.graceMs = settings.grace().toMillis();
        this.conversationTtlMs = settings.conversationTtl().toMillis();
        this.emitInterval = settings.emitInterval();
        this.eventLog = settings.eventLog();
        this.metrics = metrics;
    }

    /**
     * @param grace           how long after an hour's end its events are still accepted
     * @param conversationTtl how long a conversation row is kept without events (stream time)
     * @param emitInterval    how often changed rows are emitted (the commit interval)
     * @param eventLog        whether each counted event is forwarded too (to {@code usage.priced})
     */
    public record Settings(Duration grace, Duration conversationTtl, Duration emitInterval, boolean eventLog) {
    }

    /**
     * The supplier with its stores ({@link RowStore}), RocksDB and changelogged: the rows' first write
     * in an emission epoch without Kafka Streams' record cache (the rows an event touches are in
     * memory already, so the cache would only cost), their further writes in the epoch with it (a
     * busy row then reaches its changelog once per commit).
     */
    public static ProcessorSupplier<String, MeteredEvent, Object, Object> supplier(Settings settings, MeteringMetrics metrics) {
        // one memory budget for the rows kept in memory by all tasks of this topology instance
        PendingRows.RowBudget budget = PendingRows.RowBudget.ofHeap();
        return new ProcessorSupplier<>() {
            @Override
            public Processor<String, MeteredEvent, Object, Object> get() {
                return new AggregateStage(settings, metrics, budget);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(WINDOWS_STORE), Serdes.Bytes(), Serdes.ByteArray()),
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(HOT_ROWS_STORE), Serdes.Bytes(), Serdes.ByteArray())
                                .withCachingEnabled());
            }
        };
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.store = new RowStore(context.getStateStore(WINDOWS_STORE), context.getStateStore(HOT_ROWS_STORE));
        if (rows != null) {
            rows.release(); // a task re-initialized after a failure
        }
        this.rows = new PendingRows(store, budget);
        // the row of the newest accepted event is never purged before a newer one exists, so the
        // stored rows give stream time exactly, without a store write per event
        this.streamTime = rows.newestEventAt();
        this.conversations = new ConversationExpiry(store);
        context.schedule(emitInterval, PunctuationType.WALL_CLOCK_TIME, this::emit);
    }

    @Override
    public void process(Record<String, MeteredEvent> record) {
        MeteredEvent in = record.value();
        UsageEvent e = in.event();
        long at = e.getOccurredAt().toEpochMilli();
        if (at > streamTime) {
            streamTime = at;
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
                nz(e.getModel()), nz(e.getConversationId()));
        fold(dims.detail(WindowSize.HOUR, hourStart), in);
        fold(dims.org(WindowSize.HOUR, hourStart), in);
        fold(dims.org(WindowSize.DAY, WindowId.startOf(WindowSize.DAY, at)), in);
        if (dims.hasConversation()) {
            PendingRows.Row row = rows.forUpdate(dims.conversation());
            long lastBefore = row.totals().lastEventAt();
            add(row, in);
            conversations.touched(row.key(), lastBefore, row.totals().lastEventAt());
        }
        if (eventLog) {
            context.forward(record.withKey((Object) record.key()).withValue(in));
        }
    }

    private void fold(WindowId.Keyed id, MeteredEvent in) {
        add(rows.forUpdate(id), in);
    }

    private void add(PendingRows.Row row, MeteredEvent in) {
        UsageEvent e = in.event();
        row.totals().add(e.getOccurredAt().toEpochMilli(), e.getQuantity(), e.getInputTokens(), e.getOutputTokens(),
                e.getCachedInputTokens(), e.getCacheWriteTokens(), e.getReasoningTokens(), in.unpriced(), in.costFemtos());
        rows.updated(row);
    }

    /** Every emission interval: forwards the latest totals of every row changed since the last one, then purges. */
    private void emit(long now) {
        boolean any = false;
        for (PendingRows.Row row : rows.held()) {
            // the sink node serializes within forward(), before the next event changes these totals
            context.forward(new Record<Object, Object>(row.id(), row.totals(), now));
            any = true;
        }
        rows.drained();
        if (any) {
            // commit what was just emitted at once: Kafka Streams' own timer runs at five intervals (StreamsApp)
            context.commit();
        }
        if (lastPurge == Long.MIN_VALUE || now - lastPurge >= PURGE_EVERY_MS) {
            lastPurge = now;
            purgeExpired();
        }
    }

    /** Deletes the rows no event can reach any more: window end + grace, or last event + conversation TTL, {@code <=} stream time. */
    private void purgeExpired() {
        if (streamTime == Long.MIN_VALUE) {
            return;
        }
        for (WindowSize size : List.of(WindowSize.HOUR, WindowSize.DAY)) {
            // expired: start + length + grace <= streamTime, i.e. start < streamTime - grace - length + 1
            long cutoff = streamTime - graceMs - WindowId.lengthOf(size) + 1;
            if (cutoff <= 0) {
                continue;
            }
            List<Bytes> expired = new ArrayList<>();
            try (KeyValueIterator<Bytes, byte[]> it = store.range(WindowId.prefix(size, 0), WindowId.prefix(size, cutoff))) {
                while (it.hasNext()) {
                    expired.add(it.next().key);
                }
            }
            rows.forgetBefore(size, cutoff);
            expired.forEach(store::delete);
        }
        conversations.purge(streamTime - conversationTtlMs);
    }

    /** The rows this task keeps in memory (tests). */
    int rowsInMemory() {
        return rows.recentRows();
    }

    @Override
    public void close() {
        if (rows != null) {
            rows.release();
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
