package dev.metering.streams.window;

import static dev.metering.streams.TestEvents.anEvent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.events.DeadLetterHeaders.Reason;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.Origin;
import dev.metering.streams.metrics.MeteringMetrics;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/** A restarted aggregate stage continues from what its store holds (Kafka Streams restores it from the changelog). */
class AggregateStageRestartTest {

    private static final AggregateStage.Settings SETTINGS =
            new AggregateStage.Settings(Duration.ofHours(48), Duration.ofDays(30), Duration.ofMillis(100), false);

    private final KeyValueStore<Bytes, byte[]> store = TestRowStores.inMemory(AggregateStage.WINDOWS_STORE);
    private final KeyValueStore<Bytes, byte[]> hot = TestRowStores.inMemory(AggregateStage.HOT_ROWS_STORE);

    @Test
    void shouldKeepStreamTimeAcrossARestart() {
        MockProcessorContext<Object, Object> first = context();
        initStores(first);
        AggregateStage before = start(first);
        process(before, "2026-03-10T12:30:00Z");
        process(before, "2026-03-12T13:00:00Z"); // stream time
        assertThat(refusals(first)).isEmpty();

        MockProcessorContext<Object, Object> second = context();
        AggregateStage restarted = start(second);
        process(restarted, "2026-03-10T12:00:00Z"); // its hour closed at 03-12T13:00
        process(restarted, "2026-03-10T13:00:00Z"); // closes at 03-12T14:00

        assertThat(refusals(second)).singleElement()
                .satisfies(e -> assertThat(e.event().getOccurredAt()).isEqualTo(Instant.parse("2026-03-10T12:00:00Z")));
    }

    @Test
    void shouldStartWithoutStreamTimeOnAnEmptyStore() {
        MockProcessorContext<Object, Object> context = context();
        initStores(context);
        AggregateStage stage = start(context);
        process(stage, "2020-01-01T00:00:00Z");
        assertThat(refusals(context)).isEmpty();
    }

    @Test
    void shouldWriteARowsFirstUpdateInAnEpochThroughAndItsFurtherOnesBehindTheCache() {
        MockProcessorContext<Object, Object> context = context();
        initStores(context);
        AggregateStage stage = start(context);
        for (int i = 0; i < 3; i++) {
            process(stage, "2026-03-10T12:0" + i + ":00Z");
        }
        // three rows (detail hour, org hour, org day): first write through, the two others to the hot store
        assertThat(versions(store)).containsExactly(1L, 1L, 1L);
        assertThat(versions(hot)).containsExactly(3L, 3L, 3L);

        context.scheduledPunctuators().get(0).getPunctuator().punctuate(0L); // the next epoch
        process(stage, "2026-03-10T12:05:00Z");
        assertThat(versions(store)).containsExactly(4L, 4L, 4L);
        assertThat(versions(hot)).containsExactly(3L, 3L, 3L);

        MockProcessorContext<Object, Object> second = context();
        AggregateStage restarted = start(second); // reads the newer copy of each row
        process(restarted, "2026-03-10T12:06:00Z");
        assertThat(versions(store)).containsExactly(5L, 5L, 5L);
        second.scheduledPunctuators().get(0).getPunctuator().punctuate(0L);
        assertThat(second.forwarded()).extracting(f -> ((Totals) f.record().value()).events).containsExactly(5L, 5L, 5L);
    }

    @Test
    void shouldAskForACommitRightAfterAnEmissionWithRowsOnly() {
        MockProcessorContext<Object, Object> context = context();
        initStores(context);
        AggregateStage stage = start(context);
        var emit = context.scheduledPunctuators().get(0).getPunctuator();

        emit.punctuate(0L); // nothing changed: nothing to commit early
        assertThat(context.forwarded()).isEmpty();
        assertThat(context.committed()).isFalse();

        process(stage, "2026-03-10T12:00:00Z");
        emit.punctuate(1L);
        assertThat(context.forwarded()).hasSize(3);
        assertThat(context.committed()).isTrue();

        context.resetCommit();
        context.resetForwards();
        emit.punctuate(2L); // drained already
        assertThat(context.forwarded()).isEmpty();
        assertThat(context.committed()).isFalse();
    }

    private static List<Long> versions(KeyValueStore<Bytes, byte[]> store) {
        List<Long> versions = new java.util.ArrayList<>();
        try (var it = store.all()) {
            it.forEachRemaining(kv -> {
                if (PendingRows.isRowKey(kv.key)) {
                    versions.add(Totals.versionOf(kv.value));
                }
            });
        }
        return versions;
    }

    /** Opens both row stores on {@code context}, as Kafka Streams does before a task's first start. */
    private void initStores(MockProcessorContext<Object, Object> context) {
        store.init(context.getStateStoreContext(), store);
        hot.init(context.getStateStoreContext(), hot);
    }

    private MockProcessorContext<Object, Object> context() {
        MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
        context.addStateStore(store);
        context.addStateStore(hot);
        return context;
    }

    private static AggregateStage start(MockProcessorContext<Object, Object> context) {
        AggregateStage stage = new AggregateStage(SETTINGS, MeteringMetrics.none());
        stage.init(context);
        return stage;
    }

    private static void process(AggregateStage stage, String occurredAt) {
        UsageEvent e = anEvent().org("acme").at(Instant.parse(occurredAt)).build();
        Origin origin = new Origin(new byte[0], new byte[0], "events", 0, 0, e.getOccurredAt().toEpochMilli());
        MeteredEvent in = MeteredEvent.accepted(e, origin).priced(BigInteger.ZERO, false);
        stage.process(new Record<>("acme", in, e.getOccurredAt().toEpochMilli()));
    }

    private static List<MeteredEvent> refusals(MockProcessorContext<Object, Object> context) {
        return context.forwarded().stream()
                .map(f -> f.record().value())
                .filter(v -> v instanceof MeteredEvent m && m.isRefused() && m.refusal().reason() == Reason.LATE)
                .map(v -> (MeteredEvent) v)
                .toList();
    }
}
