package dev.metering.streams.window;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The aggregate rows of one task and which of them still have to be emitted, kept so that a crash
 * at any point loses no emission, on Kafka Streams' public API only.
 *
 * <p>Rows live in a changelogged key-value store with Kafka Streams' record cache in front, so
 * every update is written to the store (a cache put) and reaches the changelog at the next
 * commit, in the same transaction as the input offsets, however many events changed the row in
 * between. Emission works in epochs: a row changed in epoch {@code E} is stored stamped {@code E}
 * and held in memory until the punctuator drains epoch {@code E} (forwards every held row, then
 * stores {@code drained = E} beside the rows and starts {@code E + 1}). The forwarded records, the
 * rows and {@code drained} commit atomically, so after a crash the committed rows stamped above
 * the committed {@code drained} are exactly those whose latest state was not emitted: the start-up
 * scan holds them again, and the next drain emits them. Re-emitting a row that was emitted before
 * is harmless: the sink keeps the highest version.
 *
 * <p>Cost: one store scan when a task starts (after its state is restored); none per commit.
 */
final class PendingRows {

    /** A row held for emission: its key, identity and latest totals. */
    record Row(Bytes key, WindowId id, Totals totals) {
    }

    /** Beside the rows, outside every row key range (row keys start with a size ordinal, 0 to 2). */
    static final Bytes DRAINED_KEY = Bytes.wrap(new byte[] {0x7f, 'e', 'p'});
    private static final byte LAST_ROW_PREFIX = 0x10;

    private final KeyValueStore<Bytes, byte[]> store;
    private final Map<Bytes, Row> pending = new LinkedHashMap<>();
    private long epoch;
    private final long newestEventAt;

    PendingRows(KeyValueStore<Bytes, byte[]> store) {
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
            byte[] stored = store.get(keyed.key());
            row = new Row(keyed.key(), keyed.id(), stored == null ? new Totals() : Totals.decode(stored));
            pending.put(keyed.key(), row);
        }
        return row;
    }

    /** Stores the row's new totals; to be called after every change. */
    void updated(Row row) {
        store.put(row.key(), row.totals().encode(epoch));
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
}
