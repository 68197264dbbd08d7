package dev.metering.streams.dedupe;

import dev.metering.streams.MemoryBudget;
import java.util.Iterator;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;

/**
 * A task's in-memory index of the dedupe keys in its store: 64-bit fingerprints, one hash set per
 * time slice of the keys' timestamps. It answers "certainly never seen" without touching the
 * store; only a "maybe" (a real duplicate, or one fingerprint collision in about 2^64 / entries)
 * goes to the store's ranged fetch, which decides.
 *
 * <p>Why: a new event is the common case, and proving it new in the windowed RocksDB store means
 * one iterator per live segment, while a set probe per slice is a hash lookup.
 *
 * <p>Never a false "new": every key put in the store is added here, the index is rebuilt from the
 * store when the task starts (after restoration), and a slice is dropped only when all its
 * timestamps are older than anything the store still keeps (the newest timestamp minus the
 * retention, minus one slice of slack). Keeping more than the store only costs a fetch.
 *
 * <p>Memory: about 16-32 bytes per key within the retention, drawn from a {@link Budget} shared
 * by the tasks of an instance. When the budget runs out, the task's index frees its memory and
 * switches itself off: every lookup then goes to the store, as without the index (logged once).
 */
final class SeenFilter {

    /** Entries the tasks of one instance may hold together. */
    static final class Budget extends MemoryBudget {
        Budget(long entries) {
            super(entries);
        }

        /** One eighth of the maximum heap, at 32 bytes per entry (a set at its fullest). */
        static Budget ofHeap() {
            return new Budget(Runtime.getRuntime().maxMemory() / 8 / 32);
        }
    }

    /** Entries reserved from the budget at a time (it is shared and atomic). */
    private static final long CHUNK = 4096;

    private final long sliceMs;
    private final long retentionMs;
    private final Budget budget;
    private final TreeMap<Long, LongSet> slices = new TreeMap<>();
    /** The sets of {@link #slices}, as an array: the per-event look-up allocates nothing. */
    private LongSet[] live = new LongSet[0];
    /** The slice of the latest add (events come roughly in time order). */
    private long currentSliceId = Long.MIN_VALUE;
    private LongSet currentSlice;
    private long held;
    private long reservedChunks;
    private boolean off;
    private long oldestKept = Long.MIN_VALUE;

    SeenFilter(long retentionMs, Budget budget) {
        this.retentionMs = retentionMs;
        this.sliceMs = Math.max(retentionMs / 4, 60_000L);
        this.budget = budget;
    }

    /** False when {@code fingerprint} was certainly never added (or has expired from the store). */
    boolean mightContain(long fingerprint) {
        if (off) {
            return true;
        }
        for (LongSet set : live) {
            if (set.contains(fingerprint)) {
                return true;
            }
        }
        return false;
    }

    /** Adds a key put in the store at {@code timestamp}; drops slices the store no longer holds. */
    void add(long fingerprint, long timestamp) {
        if (off) {
            return;
        }
        // the store keeps timestamps >= its newest - retention; keep one slice more
        long keepFrom = Math.floorDiv(timestamp - retentionMs, sliceMs) - 1;
        if (keepFrom > oldestKept) {
            oldestKept = keepFrom;
            expire();
        }
        if (held + 1 > reservedChunks * CHUNK) {
            if (!budget.take(CHUNK)) {
                switchOff();
                return;
            }
            reservedChunks++;
        }
        long sliceId = Math.floorDiv(timestamp, sliceMs);
        if (sliceId != currentSliceId) {
            currentSliceId = sliceId;
            currentSlice = slices.get(sliceId);
            if (currentSlice == null) {
                currentSlice = new LongSet();
                slices.put(sliceId, currentSlice);
                live = slices.values().toArray(LongSet[]::new);
            }
        }
        if (currentSlice.add(fingerprint)) {
            held++;
        }
    }

    /** Adds every key of a store ({@code Windowed<String>} keys as the dedupe stage writes them). */
    void addAll(Iterator<KeyValue<Windowed<String>, Long>> store) {
        while (store.hasNext() && !off) {
            KeyValue<Windowed<String>, Long> entry = store.next();
            add(fingerprint(entry.key.key()), entry.key.window().start());
        }
    }

    boolean isOff() {
        return off;
    }

    long entries() {
        return held;
    }

    /** Frees the memory and the budget (task closed). */
    void release() {
        slices.clear();
        live = new LongSet[0];
        currentSliceId = Long.MIN_VALUE;
        currentSlice = null;
        budget.giveBack(reservedChunks * CHUNK);
        reservedChunks = 0;
        held = 0;
    }

    private void switchOff() {
        release();
        off = true;
    }

    private void expire() {
        SortedMap<Long, LongSet> expired = slices.headMap(oldestKept);
        if (expired.isEmpty()) {
            return;
        }
        for (LongSet set : expired.values()) {
            held -= set.size();
        }
        if (expired.containsKey(currentSliceId)) {
            currentSliceId = Long.MIN_VALUE;
            currentSlice = null;
        }
        expired.clear();
        live = slices.values().toArray(LongSet[]::new);
        long needed = (held + CHUNK - 1) / CHUNK;
        if (needed < reservedChunks) {
            budget.giveBack((reservedChunks - needed) * CHUNK);
            reservedChunks = needed;
        }
    }

    /** 64-bit FNV-1a over the key's chars, then murmur3's finalizer. */
    static long fingerprint(String key) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < key.length(); i++) {
            h ^= key.charAt(i);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** An open-addressing set of longs (linear probing, at most half full; 0 is stored as a flag). */
    static final class LongSet {
        private long[] table = new long[1024];
        private int size;
        private boolean hasZero;

        boolean contains(long v) {
            return v == 0 ? hasZero : table[slot(v)] == v;
        }

        boolean add(long v) {
            if (v == 0) {
                boolean added = !hasZero;
                hasZero = true;
                size += added ? 1 : 0;
                return added;
            }
            if (2 * (size + 1) > table.length) {
                grow();
            }
            int i = slot(v);
            if (table[i] == v) {
                return false;
            }
            table[i] = v;
            size++;
            return true;
        }

        /** The slot holding {@code v}, or the empty slot where it would go. */
        private int slot(long v) {
            int mask = table.length - 1;
            int i = (int) mix(v) & mask;
            while (table[i] != v && table[i] != 0) {
                i = (i + 1) & mask;
            }
            return i;
        }

        int size() {
            return size;
        }

        private void grow() {
            long[] old = table;
            table = new long[old.length * 2];
            int mask = table.length - 1;
            for (long v : old) {
                if (v != 0) {
                    int i = (int) mix(v) & mask;
                    while (table[i] != 0) {
                        i = (i + 1) & mask;
                    }
                    table[i] = v;
                }
            }
        }

        private static long mix(long v) {
            return v ^ (v >>> 32);
        }
    }
}
