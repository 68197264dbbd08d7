package dev.metering.streams.dedupe;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.kstream.Windowed;
import org.junit.jupiter.api.Test;

class SeenFilterTest {

    private static final long HOUR = 3_600_000L;
    private static final long RETENTION = 50 * HOUR;
    private static final long T0 = 1_773_000_000_000L;

    @Test
    void shouldNeverCallAnAddedKeyNew() {
        SeenFilter filter = new SeenFilter(RETENTION, new SeenFilter.Budget(1_000_000));
        Random random = new Random(7);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            String key = "5:org-" + random.nextInt(1000) + "evt-" + i;
            keys.add(key);
            filter.add(SeenFilter.fingerprint(key), T0 + random.nextInt((int) (RETENTION / 2)));
        }
        assertThat(keys).allMatch(k -> filter.mightContain(SeenFilter.fingerprint(k)));
        assertThat(filter.entries()).isEqualTo(200_000);
        long falseMaybes = 0;
        for (int i = 0; i < 200_000; i++) {
            falseMaybes += filter.mightContain(SeenFilter.fingerprint("5:org-1never-" + i)) ? 1 : 0;
        }
        assertThat(falseMaybes).isZero(); // 64-bit fingerprints: a collision here would be a ~1e-9 event
    }

    @Test
    void shouldKeepEveryKeyTheStoreStillHoldsAndDropOlderSlices() {
        SeenFilter filter = new SeenFilter(RETENTION, new SeenFilter.Budget(1_000_000));
        long old = SeenFilter.fingerprint("old");
        long edge = SeenFilter.fingerprint("edge");
        filter.add(old, T0);
        filter.add(edge, T0 + 45 * HOUR);
        // stream time moves 100 h on: the store keeps timestamps >= T0 + 50 h
        filter.add(SeenFilter.fingerprint("new"), T0 + 100 * HOUR);
        assertThat(filter.mightContain(old)).isFalse();
        // T0 + 45 h is older than the store keeps, but within the slice of slack (12.5 h): kept (a fetch decides)
        assertThat(filter.mightContain(edge)).isTrue();
        filter.add(SeenFilter.fingerprint("newer"), T0 + 130 * HOUR);
        assertThat(filter.mightContain(edge)).isFalse();
        assertThat(filter.mightContain(SeenFilter.fingerprint("new"))).isTrue();
        assertThat(filter.entries()).isEqualTo(2);
    }

    @Test
    void shouldSwitchOffAndAnswerMaybeWhenTheBudgetRunsOut() {
        SeenFilter.Budget budget = new SeenFilter.Budget(10_000);
        SeenFilter first = new SeenFilter(RETENTION, budget);
        SeenFilter second = new SeenFilter(RETENTION, budget);
        for (int i = 0; i < 5_000; i++) {
            first.add(SeenFilter.fingerprint("a" + i), T0);
        }
        assertThat(first.isOff()).isFalse();
        for (int i = 0; i < 5_000; i++) {
            second.add(SeenFilter.fingerprint("b" + i), T0);
        }
        // 8,192 reserved by the first (two chunks of 4,096): the second gets one chunk, then no more
        assertThat(second.isOff()).isTrue();
        assertThat(second.mightContain(SeenFilter.fingerprint("never"))).isTrue(); // off: the store decides
        assertThat(second.entries()).isZero();
        assertThat(first.mightContain(SeenFilter.fingerprint("a4999"))).isTrue();
        first.release();
        assertThat(budget.free()).isEqualTo(10_000);
    }

    @Test
    void shouldRebuildFromTheStoreAtStart() {
        WindowStore<String, Long> store = Stores.windowStoreBuilder(
                        Stores.inMemoryWindowStore(DedupeStage.STORE, Duration.ofMillis(RETENTION), Duration.ofMillis(1), false),
                        Serdes.String(), Serdes.Long())
                .withLoggingDisabled().withCachingDisabled().build();
        MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
        store.init(context.getStateStoreContext(), store);
        for (int i = 0; i < 1_000; i++) {
            store.put("5:acme" + "evt-" + i, T0 + i * 60_000L, T0 + i * 60_000L);
        }
        SeenFilter filter = new SeenFilter(RETENTION, new SeenFilter.Budget(1_000_000));
        try (KeyValueIterator<Windowed<String>, Long> all = store.all()) {
            filter.addAll(all);
        }
        assertThat(filter.entries()).isEqualTo(1_000);
        for (int i = 0; i < 1_000; i++) {
            assertThat(filter.mightContain(SeenFilter.fingerprint("5:acme" + "evt-" + i))).isTrue();
        }
        assertThat(filter.mightContain(SeenFilter.fingerprint("5:acme" + "evt-1000"))).isFalse();
        store.close();
    }
}
