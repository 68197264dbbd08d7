package dev.metering.streams.window;

import java.util.NoSuchElementException;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The aggregate stage's state as one key-value store over two changelogged stores: the rows'
 * first write in an emission epoch goes to {@code through} (no record cache: written to RocksDB
 * and the changelog at once), every further write of the same row in that epoch to {@code hot},
 * which has Kafka Streams' record cache in front and so reaches its changelog once per commit.
 *
 * <p>Why two: most rows change once per epoch, and for them the cache is pure cost per event; a
 * busy row (a hot org's day) changes hundreds of times per epoch, and the cache turns those into
 * one changelog record. Both stores and the input offsets commit in one transaction.
 *
 * <p>A row may be in both stores; its state is the one with the higher {@code version} (it grows
 * with every event folded in). Other entries (the drained epoch, the conversation index) are
 * only in {@code through}. Deletes go to both.
 */
final class RowStore {

    private final KeyValueStore<Bytes, byte[]> through;
    private final KeyValueStore<Bytes, byte[]> hot;

    RowStore(KeyValueStore<Bytes, byte[]> through, KeyValueStore<Bytes, byte[]> hot) {
        this.through = through;
        this.hot = hot;
    }

    /** The current value of {@code key}: for a row, the newer of its two copies. */
    byte[] get(Bytes key) {
        byte[] a = through.get(key);
        if (!PendingRows.isRowKey(key)) {
            return a;
        }
        return newer(a, hot.get(key));
    }

    /** A row's first write in an epoch, or an entry that is not a row. */
    void put(Bytes key, byte[] value) {
        through.put(key, value);
    }

    /** A row's further write in the same epoch: coalesced by the record cache until the commit. */
    void putHot(Bytes key, byte[] value) {
        hot.put(key, value);
    }

    void delete(Bytes key) {
        through.delete(key);
        if (PendingRows.isRowKey(key)) {
            hot.delete(key);
        }
    }

    /** Entries with keys in {@code [from, to]}, in key order, each row once with its newer copy. */
    KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
        return new Merged(through.range(from, to), hot.range(from, to));
    }

    /** Every entry, in key order, each row once with its newer copy. */
    KeyValueIterator<Bytes, byte[]> all() {
        return new Merged(through.all(), hot.all());
    }

    private static byte[] newer(byte[] a, byte[] b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return Totals.versionOf(b) > Totals.versionOf(a) ? b : a;
    }

    /** Two key-ordered iterators as one; on equal keys the newer row. */
    private static final class Merged implements KeyValueIterator<Bytes, byte[]> {
        private final KeyValueIterator<Bytes, byte[]> a;
        private final KeyValueIterator<Bytes, byte[]> b;

        Merged(KeyValueIterator<Bytes, byte[]> a, KeyValueIterator<Bytes, byte[]> b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public boolean hasNext() {
            return a.hasNext() || b.hasNext();
        }

        @Override
        public KeyValue<Bytes, byte[]> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            if (!b.hasNext()) {
                return a.next();
            }
            if (!a.hasNext()) {
                return b.next();
            }
            int order = a.peekNextKey().compareTo(b.peekNextKey());
            if (order < 0) {
                return a.next();
            }
            if (order > 0) {
                return b.next();
            }
            KeyValue<Bytes, byte[]> x = a.next();
            KeyValue<Bytes, byte[]> y = b.next();
            return newer(x.value, y.value) == y.value ? y : x;
        }

        @Override
        public Bytes peekNextKey() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            if (!b.hasNext()) {
                return a.peekNextKey();
            }
            if (!a.hasNext()) {
                return b.peekNextKey();
            }
            Bytes x = a.peekNextKey();
            Bytes y = b.peekNextKey();
            return x.compareTo(y) <= 0 ? x : y;
        }

        @Override
        public void close() {
            try {
                a.close();
            } finally {
                b.close();
            }
        }
    }
}
