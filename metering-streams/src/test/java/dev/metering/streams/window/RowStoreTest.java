package dev.metering.streams.window;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.WindowSize;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

class RowStoreTest {

    private final KeyValueStore<Bytes, byte[]> through = store(AggregateStage.WINDOWS_STORE);
    private final KeyValueStore<Bytes, byte[]> hot = store(AggregateStage.HOT_ROWS_STORE);
    private final RowStore rows = new RowStore(through, hot);

    private static final long HOUR = 1_773_000_000_000L / 3_600_000L * 3_600_000L;
    private final Bytes a = key("org-a");
    private final Bytes b = key("org-b");
    private final Bytes c = key("org-c");

    @Test
    void shouldReadTheCopyWithTheHigherVersionWhicheverStoreHoldsIt() {
        rows.put(a, totals(3));
        rows.putHot(a, totals(5));
        rows.putHot(b, totals(7));
        rows.put(b, totals(8)); // the next epoch's first write
        rows.put(c, totals(1));

        assertThat(versionOf(rows.get(a))).isEqualTo(5);
        assertThat(versionOf(rows.get(b))).isEqualTo(8);
        assertThat(versionOf(rows.get(c))).isEqualTo(1);
        assertThat(rows.get(key("org-none"))).isNull();
    }

    @Test
    void shouldIterateEveryKeyOnceInOrderWithItsNewerCopy() {
        rows.put(c, totals(2));
        rows.putHot(a, totals(4));
        rows.put(a, totals(3));
        rows.putHot(b, totals(9));
        rows.put(PendingRows.DRAINED_KEY, new byte[8]);

        List<String> seen = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = rows.all()) {
            while (it.hasNext()) {
                Bytes next = it.peekNextKey();
                var kv = it.next();
                assertThat(kv.key).isEqualTo(next);
                seen.add(PendingRows.isRowKey(kv.key) ? WindowId.decode(kv.key).orgId() + "@" + versionOf(kv.value) : "drained");
            }
        }
        assertThat(seen).containsExactly("org-a@4", "org-b@9", "org-c@2", "drained");

        List<String> ranged = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = rows.range(a, b)) {
            it.forEachRemaining(kv -> ranged.add(WindowId.decode(kv.key).orgId() + "@" + versionOf(kv.value)));
        }
        assertThat(ranged).containsExactly("org-a@4", "org-b@9");
    }

    @Test
    void shouldDeleteBothCopiesOfARow() {
        rows.put(a, totals(1));
        rows.putHot(a, totals(2));

        rows.delete(a);

        assertThat(rows.get(a)).isNull();
        assertThat(through.get(a)).isNull();
        assertThat(hot.get(a)).isNull();
    }

    private static Bytes key(String org) {
        return WindowId.Dimensions.of(org, "", "CHAT_MESSAGE", "", "", "").org(WindowSize.HOUR, HOUR).key();
    }

    /** A row's store value after {@code version} events. */
    private static byte[] totals(long version) {
        Totals t = new Totals();
        for (int i = 0; i < version; i++) {
            t.add(HOUR + i, 1, 0, 0, 0, 0, 0, false, BigInteger.ONE);
        }
        return t.encode(1);
    }

    private static long versionOf(byte[] encoded) {
        return Totals.versionOf(encoded);
    }

    private static KeyValueStore<Bytes, byte[]> store(String name) {
        KeyValueStore<Bytes, byte[]> store = TestRowStores.inMemory(name);
        MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
        store.init(context.getStateStoreContext(), store);
        return store;
    }
}
