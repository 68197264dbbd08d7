package dev.metering.streams.window;

import static dev.metering.streams.TestEvents.anEvent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.Origin;
import dev.metering.streams.metrics.MeteringMetrics;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * The rows of the newest windows kept in memory ({@link PendingRows}) give exactly the totals the
 * store alone gives: whatever the memory budget (windows leave the memory as they must), and
 * across restarts, which rebuild the memory from the store.
 */
class RecentRowsTest {

    private static final AggregateStage.Settings SETTINGS =
            new AggregateStage.Settings(Duration.ofHours(48), Duration.ofDays(30), Duration.ofMillis(100), false);
    private static final Instant START = Instant.parse("2026-03-10T00:00:00Z");

    @Test
    void shouldGiveTheSameTotalsWithAnyMemoryBudget() {
        List<UsageEvent> events = events(3_000, 42);
        Map<WindowId, Long> expected = expectedCounts(events);

        assertThat(run(events, Long.MAX_VALUE / 2, -1)).isEqualTo(expected);
        assertThat(run(events, 0, -1)).isEqualTo(expected);
        assertThat(run(events, 1, -1)).isEqualTo(expected);
        assertThat(run(events, 40, -1)).isEqualTo(expected);
    }

    @Test
    void shouldContinueTheNewestWindowsFromTheStoreAfterARestart() {
        List<UsageEvent> events = events(3_000, 7);
        Map<WindowId, Long> expected = expectedCounts(events);

        assertThat(run(events, Long.MAX_VALUE / 2, 1_234)).isEqualTo(expected);
        assertThat(run(events, 40, 2_000)).isEqualTo(expected);
    }

    @Test
    void shouldKeepTheRowsOfTheNewestWindowsOnlyWithinTheBudget() {
        PendingRows.RowBudget budget = new PendingRows.RowBudget(50);
        Harness h = new Harness(budget);
        h.start();
        for (UsageEvent e : events(1_000, 3)) {
            h.process(e);
        }
        assertThat(h.stage.rowsInMemory()).isBetween(1, 50);
        h.stage.close();
        assertThat(budget.take(50)).isTrue(); // the rows' budget was given back
    }

    /** Events of 6 orgs over 30 hours, roughly in time order, a few late within the grace. */
    private static List<UsageEvent> events(int n, long seed) {
        Random random = new Random(seed);
        List<UsageEvent> events = new ArrayList<>();
        long span = Duration.ofHours(30).toMillis();
        for (int i = 0; i < n; i++) {
            long at = START.toEpochMilli() + span * i / n - (random.nextInt(10) == 0 ? random.nextInt(7_200_000) : 0);
            events.add(anEvent().org("org-" + random.nextInt(6)).user("u" + random.nextInt(3))
                    .feature(random.nextBoolean() ? "CHAT_MESSAGE" : "FILE_UPLOAD").at(Instant.ofEpochMilli(at)).build());
        }
        return events;
    }

    /** Events per row, counted independently of the stage. */
    private static Map<WindowId, Long> expectedCounts(List<UsageEvent> events) {
        Map<WindowId, Long> counts = new HashMap<>();
        for (UsageEvent e : events) {
            long at = e.getOccurredAt().toEpochMilli();
            long hour = WindowId.startOf(WindowSize.HOUR, at);
            long day = WindowId.startOf(WindowSize.DAY, at);
            counts.merge(new WindowId(WindowSize.HOUR, hour, WindowGrain.DETAIL, e.getOrgId(), e.getUserId(), e.getFeature(),
                    "", "", ""), 1L, Long::sum);
            counts.merge(new WindowId(WindowSize.HOUR, hour, WindowGrain.ORG, e.getOrgId(), "", e.getFeature(), "", "", ""),
                    1L, Long::sum);
            counts.merge(new WindowId(WindowSize.DAY, day, WindowGrain.ORG, e.getOrgId(), "", e.getFeature(), "", "", ""),
                    1L, Long::sum);
        }
        return counts;
    }

    /** The last emitted event count per row, with a restart (a new stage on the same store) before event {@code restartAt}. */
    private static Map<WindowId, Long> run(List<UsageEvent> events, long budgetRows, int restartAt) {
        Harness h = new Harness(new PendingRows.RowBudget(budgetRows));
        h.start();
        for (int i = 0; i < events.size(); i++) {
            if (i == restartAt) {
                h.restart();
            }
            h.process(events.get(i));
            if (i % 17 == 0) {
                h.emit();
            }
        }
        h.emit();
        return h.latest;
    }

    private static final class Harness {
        private final KeyValueStore<Bytes, byte[]> store = TestRowStores.inMemory(AggregateStage.WINDOWS_STORE);
        private final KeyValueStore<Bytes, byte[]> hot = TestRowStores.inMemory(AggregateStage.HOT_ROWS_STORE);
        private final PendingRows.RowBudget budget;
        private final Map<WindowId, Long> latest = new HashMap<>();
        private MockProcessorContext<Object, Object> context;
        private AggregateStage stage;

        Harness(PendingRows.RowBudget budget) {
            this.budget = budget;
        }

        void start() {
            context = new MockProcessorContext<>();
            context.addStateStore(store);
            context.addStateStore(hot);
            store.init(context.getStateStoreContext(), store);
            hot.init(context.getStateStoreContext(), hot);
            stage = new AggregateStage(SETTINGS, MeteringMetrics.none(), budget);
            stage.init(context);
        }

        /** As after a crash: the rows held but not emitted are emitted by the new stage. */
        void restart() {
            stage.close();
            start();
        }

        void process(UsageEvent e) {
            Origin origin = new Origin(new byte[0], new byte[0], "events", 0, 0, e.getOccurredAt().toEpochMilli());
            MeteredEvent in = MeteredEvent.accepted(e, origin).priced(BigInteger.ONE, false);
            stage.process(new Record<>(e.getOrgId(), in, e.getOccurredAt().toEpochMilli()));
        }

        void emit() {
            context.scheduledPunctuators().get(0).getPunctuator().punctuate(0L);
            for (var forwarded : context.forwarded()) {
                if (forwarded.record().key() instanceof WindowId id && forwarded.record().value() instanceof Totals t) {
                    latest.merge(id, t.events, Math::max);
                }
            }
            context.resetForwards();
        }
    }
}
