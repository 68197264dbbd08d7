package dev.metering.streams.window;

import dev.metering.avro.WindowSize;
import dev.metering.streams.MemoryBudget;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;

/**
 * The aggregate rows of one task and which of them still have to be emitted, kept so that a crash
 * at any point loses no emission, on Kafka Streams' public API only.
 *
 * <p>Rows live in changelogged stores ({@link RowStore}): a row's first update in an epoch is
 * written through to its store and changelog at once, its further updates in the same epoch go
 * through Kafka Streams' record cache, which coalesces them per commit. Either way they commit in
 * the same transaction as the input offsets of the events that made them.
 *
 * <p>Emission works in epochs: a row changed in epoch {@code E} is stored stamped {@code E} and
 * held in memory until the punctuator drains epoch {@code E} (forwards every held row, then
 * stores {@code drained = E} beside the rows and starts {@code E + 1}). The forwarded records, the
 * rows and {@code drained} commit atomically, so after a crash the committed rows stamped above
 * the committed {@code drained} are exactly those whose latest state was not emitted: the start-up
 * scan holds them again, and the next drain emits them. Re-emitting a row that was emitted before
 * is harmless: the sink keeps the highest version.
 *
 * <p>Reads: the rows of the newest HOUR and DAY windows are also kept in memory ({@link Recent}),
 * complete from a window start on, so an event folds into them without a store read, and a row
 * missing there is certainly new. The store stays the only durable copy: the memory is rebuilt
 * from it when the task starts, and every write still goes to the store.
 *
 * <p>Cost: one store scan when a task starts (after its state is restored); none per commit.
 */
final class PendingRows {

    /** A row held for emission: its key, identity and latest totals. */
    static final class Row {
        private final Bytes key;
        private final WindowId id;
        private final Totals totals;
        /** The epoch of this row's last write ({@code -1}: none since it was read). */
        private long writtenIn = -1;

        Row(Bytes key, WindowId id, Totals totals) {
            this.key = key;
            this.id = id;
            this.totals = totals;
        }

        Bytes key() {
            return key;
        }

        WindowId id() {
            return id;
        }

        Totals totals() {
            return totals;
        }
    }

    /** Beside the rows, outside every row key range (row keys start with a size ordinal, 0 to 2). */
    static final Bytes DRAINED_KEY = Bytes.wrap(new byte[] {0x7f, 'e', 'p'});
    private static final byte LAST_ROW_PREFIX = 0x10;

    private final RowStore store;
    private final Map<Bytes, Row> pending = new LinkedHashMap<>();
    private final Recent recent;
    private long epoch;
    private final long newestEventAt;

    PendingRows(RowStore store, RowBudget budget) {
        this.store = store;
        byte[] drained = store.get(DRAINED_KEY);
        long lastDrained = drained == null ? 0L : ByteBuffer.wrap(drained).getLong();
        long newest = lastDrained;
        long newestEventAt = Long.MIN_VALUE;
        try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
            while (it.hasNext()) {
                var kv = it.next();
                if (!isRowKey(kv.key)) {
                    continue;
                }
                newestEventAt = Math.max(newestEventAt, Totals.lastEventAtOf(kv.value));
                long stamp = Totals.epochOf(kv.value);
                if (stamp > lastDrained) {
                    pending.put(kv.key, new Row(kv.key, WindowId.decode(kv.key), Totals.decode(kv.value)));
                    newest = Math.max(newest, stamp);
                }
            }
        }
        this.epoch = newest + 1;
        this.newestEventAt = newestEventAt;
        this.recent = new Recent(budget);
        recent.load(store, newestEventAt, pending);
    }

    /** The greatest {@code lastEventAt} of the rows stored when the task started ({@code Long.MIN_VALUE}: none). */
    long newestEventAt() {
        return newestEventAt;
    }

    static boolean isRowKey(Bytes key) {
        byte[] k = key.get();
        return k.length > 0 && k[0] >= 0 && k[0] < LAST_ROW_PREFIX;
    }

    /** The row to fold an event into, held for emission: the held row, else the stored one, else a new one. */
    Row forUpdate(WindowId.Keyed keyed) {
        Row row = pending.get(keyed.key());
        if (row == null) {
            WindowId id = keyed.id();
            row = recent.get(id, keyed.key());
            if (row == null) {
                byte[] stored = recent.covers(id) ? null : store.get(keyed.key());
                row = new Row(keyed.key(), id, stored == null ? new Totals() : Totals.decode(stored));
                recent.add(row);
            }
            pending.put(keyed.key(), row);
        }
        return row;
    }

    /** Stores the row's new totals; to be called after every change. */
    void updated(Row row) {
        if (row.writtenIn == epoch) {
            store.putHot(row.key, row.totals.encode(epoch));
        } else {
            store.put(row.key, row.totals.encode(epoch));
            row.writtenIn = epoch;
        }
    }

    /** The rows held for emission, in the order they first changed. */
    Collection<Row> held() {
        return Collections.unmodifiableCollection(pending.values());
    }

    /** Marks every held row emitted (call after forwarding each of {@link #held()}) and starts the next epoch. */
    void drained() {
        if (pending.isEmpty()) {
            return;
        }
        store.put(DRAINED_KEY, ByteBuffer.allocate(8).putLong(epoch).array());
        pending.clear();
        epoch++;
    }

    /** Before the store deletes the {@code size} rows of windows starting before {@code start}. */
    void forgetBefore(WindowSize size, long start) {
        recent.forgetBefore(size, start);
    }

    /** Frees the memory kept for the rows (task closed). */
    void release() {
        recent.release();
    }

    /** The number of rows kept in memory (tests). */
    int recentRows() {
        return recent.size();
    }

    /** Rows the tasks of one instance may keep in memory together, about 1/16 of the heap. */
    static final class RowBudget extends MemoryBudget {
        /** A rough upper bound of one row in memory: key, identity, totals and map entries. */
        private static final long BYTES_PER_ROW = 640;
        /** Rows taken at a time (the budget is shared and atomic). */
        private final long chunk;

        RowBudget(long rows) {
            super(rows);
            this.chunk = Math.max(1, Math.min(1024, rows / 64));
        }

        static RowBudget ofHeap() {
            return new RowBudget(Runtime.getRuntime().maxMemory() / 16 / BYTES_PER_ROW);
        }
    }

    /**
     * The rows of the newest HOUR and DAY windows, per size complete from {@code completeFrom} (never negative) on:
     * every stored row of a window starting there or later is here, with its latest totals. Rows of
     * older windows (late events) and CONVERSATION rows are read from the store. When the budget
     * is spent, the oldest window leaves the memory as a whole and {@code completeFrom} moves past it.
     */
    private static final class Recent {
        private final RowBudget budget;
        /** Per size ordinal (HOUR, DAY): window start to its rows here. */
        private final List<TreeMap<Long, Map<Bytes, Row>>> windows = List.of(new TreeMap<>(), new TreeMap<>());
        private final long[] completeFrom = {Long.MAX_VALUE, Long.MAX_VALUE};
        /** Per size: the window of the last look-up (events come roughly in time order). */
        private final long[] lastStart = {Long.MIN_VALUE, Long.MIN_VALUE};
        @SuppressWarnings("unchecked")
        private final Map<Bytes, Row>[] lastRows = new Map[2];
        private long held;
        private long reserved;

        private final long chunk;

        Recent(RowBudget budget) {
            this.budget = budget;
            this.chunk = budget.chunk;
        }

        /**
         * Takes the stored rows of the windows holding the newest stored event (none is in a later
         * window, as no stored event is newer), so those windows and all later ones are complete.
         */
        void load(RowStore store, long newestEventAt, Map<Bytes, Row> pending) {
            for (WindowSize size : List.of(WindowSize.HOUR, WindowSize.DAY)) {
                int s = tracked(size);
                // only windows from 1970 on: a negative start sorts after the positive ones in the store
                if (newestEventAt == Long.MIN_VALUE) {
                    completeFrom[s] = 0; // an empty store
                    continue;
                }
                long from = Math.max(0, WindowId.startOf(size, newestEventAt));
                completeFrom[s] = from;
                try (KeyValueIterator<Bytes, byte[]> it = store.range(WindowId.prefix(size, from),
                        WindowId.prefix(size, Long.MAX_VALUE))) {
                    while (it.hasNext()) {
                        var kv = it.next();
                        Row held = pending.get(kv.key);
                        Row row = held != null ? held : new Row(kv.key, WindowId.decode(kv.key), Totals.decode(kv.value));
                        if (!add(row)) {
                            break; // the budget forced out all of this size: nothing of it is complete
                        }
                    }
                }
            }
        }

        /** True when a row of {@code id}'s window that is not here is certainly not stored either. */
        boolean covers(WindowId id) {
            int s = tracked(id.size());
            return s >= 0 && id.start() >= completeFrom[s];
        }

        Row get(WindowId id, Bytes key) {
            int s = tracked(id.size());
            if (s < 0) {
                return null;
            }
            Map<Bytes, Row> rows = window(s, id.start());
            return rows == null ? null : rows.get(key);
        }

        /** Keeps a row of a covered window (others are not kept); false when the budget forced out all of its size. */
        boolean add(Row row) {
            int s = tracked(row.id().size());
            long start = row.id().start();
            if (s < 0 || start < completeFrom[s]) {
                return true;
            }
            while (held >= reserved * chunk && !budget.take(chunk)) {
                if (!evictOldest()) {
                    completeFrom[s] = Long.MAX_VALUE; // nothing left to evict: this size is not kept at all
                    return false;
                }
                if (start < completeFrom[s]) {
                    return true; // its own window went
                }
            }
            if (held >= reserved * chunk) {
                reserved++;
            }
            Map<Bytes, Row> rows = window(s, start);
            if (rows == null) {
                rows = new HashMap<>();
                windows.get(s).put(start, rows);
                lastStart[s] = start;
                lastRows[s] = rows;
            }
            if (rows.put(row.key(), row) == null) {
                held++;
            }
            return true;
        }

        void forgetBefore(WindowSize size, long start) {
            int s = tracked(size);
            if (s < 0) {
                return;
            }
            while (!windows.get(s).isEmpty() && windows.get(s).firstKey() < start) {
                drop(s);
            }
        }

        int size() {
            return (int) held;
        }

        void release() {
            windows.forEach(TreeMap::clear);
            lastStart[0] = lastStart[1] = Long.MIN_VALUE;
            lastRows[0] = lastRows[1] = null;
            budget.giveBack(reserved * chunk);
            reserved = 0;
            held = 0;
        }

        private Map<Bytes, Row> window(int s, long start) {
            if (lastStart[s] == start) {
                return lastRows[s];
            }
            Map<Bytes, Row> rows = windows.get(s).get(start);
            if (rows != null) {
                lastStart[s] = start;
                lastRows[s] = rows;
            }
            return rows;
        }

        /** Drops the oldest window of the size holding most windows; false when none is kept. */
        private boolean evictOldest() {
            int hours = windows.get(0).size();
            int days = windows.get(1).size();
            if (hours == 0 && days == 0) {
                return false;
            }
            drop(hours >= days ? 0 : 1);
            return true;
        }

        /** Drops the oldest window of size ordinal {@code s}; the windows from the next one on stay complete. */
        private void drop(int s) {
            var oldest = windows.get(s).pollFirstEntry();
            held -= oldest.getValue().size();
            if (lastStart[s] == oldest.getKey()) {
                lastStart[s] = Long.MIN_VALUE;
                lastRows[s] = null;
            }
            long length = WindowId.lengthOf(s == 0 ? WindowSize.HOUR : WindowSize.DAY);
            completeFrom[s] = Math.max(completeFrom[s], oldest.getKey() + length);
            long needed = (held + chunk - 1) / chunk;
            if (needed < reserved) {
                budget.giveBack((reserved - needed) * chunk);
                reserved = needed;
            }
        }

        private static int tracked(WindowSize size) {
            return size == WindowSize.HOUR ? 0 : size == WindowSize.DAY ? 1 : -1;
        }
    }
}
