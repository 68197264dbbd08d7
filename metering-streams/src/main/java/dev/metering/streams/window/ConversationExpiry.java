package dev.metering.streams.window;

import dev.metering.avro.WindowSize;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;

/**
 * Finds idle CONVERSATION rows without scanning them all: an index in the same store, one entry
 * {@code [0x7e][hour of lastEventAt:8][row key]} written when a row's last event moves into a new
 * hour (so at most one index write per conversation and hour). A purge walks the index up to the
 * cutoff hour, deletes the rows whose last event is still at or before the cutoff, and drops the
 * entries it walked (a row that moved on has a newer entry).
 */
final class ConversationExpiry {

    private static final byte INDEX = 0x7e;
    private static final byte[] PRESENT = new byte[0];

    private final RowStore store;

    ConversationExpiry(RowStore store) {
        this.store = store;
    }

    /** After an event changed a conversation row's last event time from {@code before} to {@code after}. */
    void touched(Bytes rowKey, long before, long after) {
        long hour = WindowId.startOf(WindowSize.HOUR, after);
        if (before == Long.MIN_VALUE || WindowId.startOf(WindowSize.HOUR, before) != hour) {
            store.put(entry(hour, rowKey.get()), PRESENT);
        }
    }

    /** Deletes every conversation row whose last event is at or before {@code cutoff}. */
    void purge(long cutoff) {
        // whole hours only: every row indexed under an hour ending at or before the cutoff
        long lastHour = WindowId.startOf(WindowSize.HOUR, cutoff + 1) - WindowId.HOUR_MS;
        if (lastHour < 0) {
            return;
        }
        List<Bytes> walked = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = store.range(entry(0, new byte[0]), entry(lastHour + 1, new byte[0]))) {
            while (it.hasNext()) {
                walked.add(it.next().key);
            }
        }
        for (Bytes indexKey : walked) {
            byte[] k = indexKey.get();
            Bytes rowKey = Bytes.wrap(Arrays.copyOfRange(k, 9, k.length));
            byte[] row = store.get(rowKey);
            if (row != null && Totals.decode(row).lastEventAt() <= cutoff) {
                store.delete(rowKey);
            }
            store.delete(indexKey);
        }
    }

    private static Bytes entry(long hour, byte[] rowKey) {
        return Bytes.wrap(ByteBuffer.allocate(9 + rowKey.length).put(INDEX).putLong(hour).put(rowKey).array());
    }
}
