package dev.metering.streams.window;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorRecordContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * The aggregate stage's window rows: a changelogged RocksDB key-value store behind a write-back
 * map of the rows changed since the last commit.
 *
 * <p>Kafka Streams calls {@link #flushCache()} on every store implementing
 * {@link CachedStateStore} when it prepares a commit: after the last record of the commit was
 * processed and before the producer is flushed and the input offsets are committed (under
 * exactly-once in the same transaction). There the changed rows are written to the store (one
 * RocksDB put and one changelog record per row per commit, however many events changed it) and
 * handed to the commit listener, which emits them downstream. So a commit always covers both the
 * changelog and the output of every row it changed: nothing is pending across a commit, nothing
 * has to be re-emitted after a crash. {@link #clearCache()} (a task closed without committing)
 * drops the uncommitted changes; their records are processed again.
 *
 * <p>This replaces Kafka Streams' record cache for this store: a hash map instead of a sorted map
 * of byte arrays, no per-access sensors, and the emission happens in the same pass as the flush
 * instead of in a separate punctuation. The interface is internal to Kafka Streams (pinned
 * version; {@code WindowRowsStoreTest} and the topology tests cover the contract we rely on).
 */
public final class WindowRowsStore implements StateStore, CachedStateStore<Bytes, byte[]> {

    /** One row changed since the last commit: its key, identity and latest totals. */
    public record Row(Bytes key, WindowId id, Totals totals) {
    }

    private final KeyValueStore<Bytes, byte[]> inner;
    private final Map<Bytes, Row> changed = new LinkedHashMap<>();
    private final Map<Bytes, byte[]> changedMeta = new LinkedHashMap<>();
    private InternalProcessorContext<?, ?> context;
    private Consumer<Collection<Row>> onCommit = rows -> {
    };

    WindowRowsStore(KeyValueStore<Bytes, byte[]> inner) {
        this.inner = inner;
    }

    /** The builder: RocksDB, changelogged (logging can be configured as for any store), never Kafka-cached. */
    public static StoreBuilder<WindowRowsStore> builder(String name) {
        return new Builder(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray()));
    }

    /** Called at every commit with the rows changed since the previous one, after they were written to the store. */
    public void onCommit(Consumer<Collection<Row>> listener) {
        this.onCommit = Objects.requireNonNull(listener);
    }

    /**
     * The row for {@code key} to fold an event into, marked changed: the pending row if it changed
     * since the last commit, else the stored one, else a new empty row.
     */
    public Row rowForUpdate(Bytes key, WindowId id) {
        Row row = changed.get(key);
        if (row == null) {
            byte[] stored = inner.get(key);
            row = new Row(key, id, stored == null ? new Totals() : Totals.decode(stored));
            changed.put(key, row);
        }
        return row;
    }

    /** A small value kept beside the rows (e.g. the stream time), written at the next commit. */
    public void putMeta(Bytes key, byte[] value) {
        changedMeta.put(key, value);
    }

    /** The latest value of {@link #putMeta}, committed or not; null when never written. */
    public byte[] getMeta(Bytes key) {
        byte[] pending = changedMeta.get(key);
        return pending != null ? pending : inner.get(key);
    }

    /** The committed store, for range scans and deletes (purging expired rows). */
    public KeyValueStore<Bytes, byte[]> committed() {
        return inner;
    }

    /** Rows changed since the last commit (for tests and diagnostics). */
    public int changedRows() {
        return changed.size();
    }

    @Override
    public void flushCache() {
        if (changed.isEmpty() && changedMeta.isEmpty()) {
            return;
        }
        // a commit runs outside any record: the changelog records (and the emitted rows) get a
        // record context of their own, stamped with the task's wall clock, as a punctuation would
        ProcessorRecordContext previous = context == null ? null : context.recordContext();
        if (context != null) {
            context.setRecordContext(new ProcessorRecordContext(context.currentSystemTimeMs(), -1L, -1, null, new RecordHeaders()));
        }
        try {
            for (Row row : changed.values()) {
                inner.put(row.key(), row.totals().encode());
            }
            for (Map.Entry<Bytes, byte[]> meta : changedMeta.entrySet()) {
                inner.put(meta.getKey(), meta.getValue());
            }
            changedMeta.clear();
            onCommit.accept(Collections.unmodifiableCollection(changed.values()));
        } finally {
            changed.clear();
            if (context != null) {
                context.setRecordContext(previous);
            }
        }
    }

    @Override
    public void clearCache() {
        changed.clear();
        changedMeta.clear();
    }

    @Override
    public boolean setFlushListener(CacheFlushListener<Bytes, byte[]> listener, boolean sendOldValues) {
        return false; // rows are handed to the commit listener instead
    }

    // --- StateStore: everything else is the inner store's

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        this.context = context instanceof InternalProcessorContext<?, ?> internal ? internal : null;
        inner.init(context, root);
    }

    @Override
    @SuppressWarnings("deprecation")
    public void flush() {
        inner.flush();
    }

    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
        inner.commit(changelogOffsets);
    }

    @Override
    public Long committedOffset(TopicPartition partition) {
        return inner.committedOffset(partition);
    }

    @Override
    public boolean managesOffsets() {
        return inner.managesOffsets();
    }

    @Override
    public void close() {
        changed.clear();
        changedMeta.clear();
        inner.close();
    }

    @Override
    public boolean persistent() {
        return inner.persistent();
    }

    @Override
    public boolean isOpen() {
        return inner.isOpen();
    }

    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
        return inner.query(query, positionBound, config);
    }

    @Override
    public Position getPosition() {
        return inner.getPosition();
    }

    private static final class Builder implements StoreBuilder<WindowRowsStore> {
        private final StoreBuilder<KeyValueStore<Bytes, byte[]>> inner;

        Builder(StoreBuilder<KeyValueStore<Bytes, byte[]>> inner) {
            this.inner = inner;
        }

        @Override
        public StoreBuilder<WindowRowsStore> withCachingEnabled() {
            return this; // the store is its own cache
        }

        @Override
        public StoreBuilder<WindowRowsStore> withCachingDisabled() {
            return this;
        }

        @Override
        public StoreBuilder<WindowRowsStore> withLoggingEnabled(Map<String, String> config) {
            inner.withLoggingEnabled(config);
            return this;
        }

        @Override
        public StoreBuilder<WindowRowsStore> withLoggingDisabled() {
            inner.withLoggingDisabled();
            return this;
        }

        @Override
        public WindowRowsStore build() {
            return new WindowRowsStore(inner.build());
        }

        @Override
        public Map<String, String> logConfig() {
            return inner.logConfig();
        }

        @Override
        public boolean loggingEnabled() {
            return inner.loggingEnabled();
        }

        @Override
        public String name() {
            return inner.name();
        }
    }
}
