package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.devstack.MutableClock;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The watch's stages with a scripted broker: usage_as_of moves only when streams AND the sink are done. */
class PipelineWatchTest {

    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final String EVENTS = "m.usage.events";
    private static final String AGGREGATES = "m.usage.aggregates";
    private static final String APP = "m-streams";
    private static final String REPARTITION = APP + "-rekey-by-org-repartition";
    private static final TopicPartition E0 = new TopicPartition(EVENTS, 0);
    private static final TopicPartition E1 = new TopicPartition(EVENTS, 1);
    private static final TopicPartition R0 = new TopicPartition(REPARTITION, 0);
    private static final TopicPartition A0 = new TopicPartition(AGGREGATES, 0);
    private static final TopicPartition A1 = new TopicPartition(AGGREGATES, 1);

    private final MutableClock clock = new MutableClock(T0);
    private final ScriptedBroker broker = new ScriptedBroker();
    private final List<Recorded> records = new ArrayList<>();
    private final SinkMetrics metrics = new SinkMetrics(new PrometheusRegistry());
    private Map<TopicPartition, Long> written = new HashMap<>(Map.of(A0, 0L, A1, 0L));
    private final PipelineWatch watch = new PipelineWatch(broker,
            (usage, streams, owned) -> {
                records.add(new Recorded(Map.copyOf(usage), streams, Set.copyOf(owned)));
                return usage.keySet();
            },
            () -> Map.copyOf(written), EVENTS, AGGREGATES, APP, Duration.ofSeconds(60), Duration.ZERO, clock, metrics);

    private record Recorded(Map<TopicPartition, Instant> usage, Instant streams, Set<TopicPartition> owned) {
    }

    @Test
    void shouldMoveUsageAsOfOnlyOnceStreamsCommittedTheEventsAndTheSinkWroteTheirAggregates() {
        broker.ends.putAll(Map.of(E0, 10L, E1, 4L, A0, 7L, A1, 0L));
        broker.committed.putAll(Map.of(E0, 5L, E1, 4L));
        watch.tick(); // snapshot T0: streams behind on E0
        assertThat(records).isEmpty();
        assertThat(metrics.streamsInputLag.get()).isEqualTo(5.0);

        clock.advance(Duration.ofSeconds(5));
        broker.committed.put(E0, 10L);
        broker.ends.put(A0, 9L); // streams' outputs for the events up to 10
        watch.tick(); // T0+5 s: streams caught up with both snapshots; the sink has written nothing of A0
        assertThat(watch.streamsAsOf()).isEqualTo(T0.plusSeconds(5));
        assertThat(records).containsExactly(new Recorded(Map.of(A1, T0.plusSeconds(5)), T0.plusSeconds(5), Set.of(A0, A1)));

        clock.advance(Duration.ofSeconds(5));
        written.put(A0, 8L); // one short of the aggregates seen when streams caught up
        watch.tick();
        assertThat(watch.usageAsOf()).isEqualTo(Map.of(A1, T0.plusSeconds(10)));

        clock.advance(Duration.ofSeconds(5));
        written.put(A0, 9L);
        watch.tick();
        assertThat(watch.usageAsOf()).isEqualTo(Map.of(A0, T0.plusSeconds(15), A1, T0.plusSeconds(15)));
    }

    @Test
    void shouldNoteTheAggregatesOnlyOnceStreamsHadTimeToEmitWhatItsCommittedInputChanged() {
        PipelineWatch delayed = new PipelineWatch(broker, (usage, streams, owned) -> usage.keySet(),
                () -> Map.copyOf(written), EVENTS, AGGREGATES, APP, Duration.ofSeconds(60), Duration.ofMillis(600), clock,
                metrics);
        broker.ends.putAll(Map.of(E0, 10L, E1, 0L, A0, 0L, A1, 0L));
        broker.committed.put(E0, 10L);
        delayed.tick(); // T0: streams committed every event, but has not emitted the rows they changed yet
        assertThat(delayed.streamsAsOf()).isEqualTo(T0);
        assertThat(delayed.usageAsOf()).isEmpty();

        broker.ends.put(A0, 3L); // the emission, a commit interval later
        clock.advance(Duration.ofSeconds(1));
        delayed.tick(); // T0's aggregates noted after the delay: A0 must reach 3, not 0
        assertThat(delayed.usageAsOf()).isEqualTo(Map.of(A1, T0));

        written.put(A0, 3L);
        clock.advance(Duration.ofSeconds(1));
        delayed.tick();
        assertThat(delayed.usageAsOf()).isEqualTo(Map.of(A0, T0.plusSeconds(1), A1, T0.plusSeconds(1)));
    }

    @Test
    void shouldNotMoveWhileStreamsCommitsNothingAndReportItsLag() {
        broker.ends.putAll(Map.of(E0, 10L, E1, 0L, A0, 0L, A1, 0L));
        broker.committed.put(E0, 3L);
        for (int i = 0; i < 20; i++) {
            watch.tick();
            clock.advance(Duration.ofSeconds(5));
            broker.ends.put(E0, broker.ends.get(E0) + 1);
        }
        assertThat(records).isEmpty();
        assertThat(watch.streamsAsOf()).isNull();
        assertThat(metrics.streamsInputLag.get()).isEqualTo(26.0);
        assertThat(metrics.usageProgressAge.get()).isEqualTo(-1.0);
    }

    @Test
    void shouldWaitForTheRepartitionTopicStreamsFeedsItself() {
        broker.ends.putAll(Map.of(E0, 10L, E1, 0L, R0, 2L, A0, 0L, A1, 0L));
        broker.committed.put(E0, 10L);
        watch.tick();
        assertThat(watch.streamsAsOf()).isNull();

        clock.advance(Duration.ofSeconds(5));
        broker.committed.put(R0, 2L);
        watch.tick();
        assertThat(watch.streamsAsOf()).isEqualTo(T0.plusSeconds(5));
        assertThat(watch.usageAsOf()).isEqualTo(Map.of(A0, T0.plusSeconds(5), A1, T0.plusSeconds(5)));
    }

    @Test
    void shouldKeepItsSnapshotsWhenTheBrokerFailsAndCountTheFailure() {
        broker.ends.putAll(Map.of(E0, 10L, E1, 0L, A0, 0L, A1, 0L));
        watch.tick(); // T0, streams behind
        broker.failing = true;
        clock.advance(Duration.ofSeconds(5));
        watch.tick();
        assertThat(metrics.pipelineWatchFailures.get()).isEqualTo(1.0);

        broker.failing = false;
        broker.committed.put(E0, 10L);
        broker.ends.put(E0, 11L); // the snapshot of this round is not reached: only the one of T0
        clock.advance(Duration.ofSeconds(5));
        watch.tick();
        assertThat(watch.usageAsOf()).isEqualTo(Map.of(A0, T0, A1, T0));
    }

    private static final class ScriptedBroker implements PipelineWatch.Broker {
        final Map<TopicPartition, Long> ends = new HashMap<>();
        final Map<TopicPartition, Long> committed = new HashMap<>();
        boolean failing;

        @Override
        public Map<TopicPartition, Long> endOffsets(Collection<String> topics, boolean stableOnly) {
            failIfAsked();
            Map<TopicPartition, Long> out = new HashMap<>();
            ends.forEach((tp, end) -> {
                if (topics.contains(tp.topic())) {
                    out.put(tp, end);
                }
            });
            return out;
        }

        @Override
        public Map<TopicPartition, Long> committedOffsets(String groupId) {
            failIfAsked();
            return groupId.equals(APP) ? Map.copyOf(committed) : Map.of();
        }

        @Override
        public Set<String> topicsStartingWith(String prefix) {
            failIfAsked();
            return ends.keySet().stream().map(TopicPartition::topic).filter(t -> t.startsWith(prefix))
                    .collect(java.util.stream.Collectors.toSet());
        }

        private void failIfAsked() {
            if (failing) {
                throw new KafkaException("broker away");
            }
        }

        @Override
        public void close() {
        }
    }
}
