package dev.metering.streams.window;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.WindowSize;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write-back contract the aggregate stage relies on, on a real RocksDB store. */
class WindowRowsStoreTest {

    private static final WindowId.Keyed ROW = WindowId.Dimensions.of("acme", "u1", "CHAT_MESSAGE", "", "")
            .detail(WindowSize.HOUR, 1_773_136_800_000L);
    private static final WindowId.Keyed OTHER = WindowId.Dimensions.of("acme", "u1", "CHAT_MESSAGE", "", "")
            .org(WindowSize.HOUR, 1_773_136_800_000L);

    @TempDir
    Path stateDir;

    private WindowRowsStore store;
    private final List<List<Long>> commits = new ArrayList<>();

    @BeforeEach
    void open() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "rows-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        MockProcessorContext<Object, Object> context = new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
        store = (WindowRowsStore) WindowRowsStore.builder("rows").withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        store.onCommit(rows -> commits.add(rows.stream().map(r -> r.totals().version).toList()));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void fold(WindowId.Keyed row, long tokens) {
        store.rowForUpdate(row.key(), row.id()).totals().add(1_773_137_000_000L, 1, tokens, 0, 0, false, BigInteger.TEN);
    }

    @Test
    void shouldWriteAndHandOverEachChangedRowOncePerCommitWithItsLatestTotals() {
        fold(ROW, 10);
        fold(ROW, 20);
        fold(OTHER, 5);
        fold(ROW, 30);
        assertThat(store.changedRows()).isEqualTo(2);
        assertThat(store.committed().get(ROW.key())).isNull();

        store.flushCache();

        assertThat(commits).containsExactly(List.of(3L, 1L));
        Totals stored = Totals.decode(store.committed().get(ROW.key()));
        assertThat(stored.version).isEqualTo(3);
        assertThat(stored.inputTokens).isEqualTo(60);
        assertThat(stored.costFemtos).isEqualTo(BigInteger.valueOf(30));
        assertThat(store.changedRows()).isZero();

        store.flushCache(); // nothing changed: nothing handed over
        assertThat(commits).hasSize(1);

        fold(ROW, 40); // the next update continues from the committed row
        store.flushCache();
        assertThat(commits).containsExactly(List.of(3L, 1L), List.of(4L));
        assertThat(Totals.decode(store.committed().get(ROW.key())).inputTokens).isEqualTo(100);
    }

    @Test
    void shouldDropUncommittedChangesWhenTheCacheIsCleared() {
        fold(ROW, 10);
        store.flushCache();
        fold(ROW, 20);
        store.putMeta(AggregateStage.STREAM_TIME_KEY, new byte[] {1});

        store.clearCache();
        store.flushCache();

        assertThat(commits).containsExactly(List.of(1L));
        assertThat(Totals.decode(store.committed().get(ROW.key())).inputTokens).isEqualTo(10);
        assertThat(store.getMeta(AggregateStage.STREAM_TIME_KEY)).isNull();
    }

    @Test
    void shouldKeepMetaValuesBesideTheRowsAndWriteThemAtTheCommit() {
        Bytes key = AggregateStage.STREAM_TIME_KEY;
        store.putMeta(key, new byte[] {7});
        assertThat(store.getMeta(key)).containsExactly(7);
        assertThat(store.committed().get(key)).isNull();

        store.flushCache();

        assertThat(store.committed().get(key)).containsExactly(7);
        assertThat(commits).containsExactly(List.of()); // a commit with no changed rows
    }

    @Test
    void shouldRefuseARowInAnotherStateFormatWithWhatToDo() {
        store.committed().put(ROW.key(), new byte[72]); // nine longs: an earlier format
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.rowForUpdate(ROW.key(), ROW.id()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("72 bytes is not in this version's state format")
                .hasMessageContaining("kafka-streams-application-reset");
    }
}
