package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.avro.UsageWindowKey;
import dev.metering.devstack.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The idle heartbeat on the real broker, registry and PostgreSQL: while nothing arrives and the
 * sink is caught up, {@code sink_progress.written_at} follows the sink's clock; while it lags, it
 * does not. The sink's clock is a {@link MutableClock}: heartbeats are due per its time, so every
 * expected {@code written_at} is exact.
 */
class SinkHeartbeatIT {

    private static final Instant NOON = Instant.parse("2026-11-02T12:00:00Z");
    private static final Instant T0 = Instant.parse("2026-11-02T10:00:00Z");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String PROGRESS = "SELECT topic, kafka_partition, next_offset, newest_event_at, written_at"
            + " FROM metering.sink_progress ORDER BY topic, kafka_partition";

    /** One heartbeat check as the sink reported it. */
    record Check(Instant at, Map<TopicPartition, Long> lag, boolean written) {
    }

    private SinkItSupport it;
    private SinkApp.RunningSink sink;
    private final MutableClock clock = new MutableClock(NOON);
    private final List<Check> checks = new CopyOnWriteArrayList<>();
    private final AtomicInteger polls = new AtomicInteger();
    /** While set, the sink's consumer does not fetch aggregates partition 0 (it falls behind). */
    private final AtomicBoolean holdBack = new AtomicBoolean();
    private final AtomicBoolean heldBack = new AtomicBoolean();
    private TopicPartition p0;
    private TopicPartition p1;

    @BeforeEach
    void world() throws Exception {
        it = new SinkItSupport("heartbeat");
        p0 = new TopicPartition(it.topics.aggregates(), 0);
        p1 = new TopicPartition(it.topics.aggregates(), 1);
        sink = it.startSink(clock, new SinkLoop.Hooks() {
            @Override
            public void beforePoll(Consumer<byte[], byte[]> consumer) {
                if (holdBack.get() && consumer.assignment().contains(p0)) {
                    consumer.pause(Set.of(p0));
                    heldBack.set(true);
                } else if (!holdBack.get() && consumer.paused().contains(p0)) {
                    consumer.resume(Set.of(p0));
                    heldBack.set(false);
                }
                polls.incrementAndGet();
            }

            @Override
            public void afterHeartbeatCheck(Instant at, Map<TopicPartition, Long> lag, boolean written) {
                checks.add(new Check(at, lag, written));
            }
        });
    }

    @AfterEach
    void stop() {
        sink.close();
        it.close();
    }

    @Test
    void shouldMoveWrittenAtWhileIdleAndCaughtUpButNeverBackwards() throws Exception {
        UsageWindowKey key = Aggregates.key().org("acme").user("u1").hour(T0).build();
        it.sendTo(0, key, Aggregates.totals().events(1).version(1).build());
        it.sendTo(0, key, Aggregates.totals().events(2).version(2).build());
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);
        String p0Written = it.topics.aggregates() + "|0|2|2026-11-02 10:05:00+00|";
        assertThat(it.rows(PROGRESS)).contains(p0Written + "2026-11-02 12:00:00+00");

        // an idle hour: the first check at 13:00 finds every partition caught up and says so, for
        // partition 1 (never written) too; next_offset and newest_event_at stay what was written
        clock.advance(Duration.ofHours(1));
        Check at13 = awaitCheckAt(Instant.parse("2026-11-02T13:00:00Z"));
        assertThat(at13).isEqualTo(new Check(at13.at(), Map.of(p0, 0L, p1, 0L), true));
        assertThat(it.rows(PROGRESS)).containsExactly(
                p0Written + "2026-11-02 13:00:00+00",
                it.topics.aggregates() + "|1|0|null|2026-11-02 13:00:00+00");

        // not due before the interval has passed on the sink's clock: two more loop iterations, no check
        clock.advance(SinkItSupport.HEARTBEAT.minusMillis(1));
        awaitPolls(2);
        assertThat(checks).extracting(Check::at).doesNotContain(Instant.parse("2026-11-02T13:00:04.999Z"));
        clock.advance(Duration.ofMillis(1));
        assertThat(awaitCheckAt(Instant.parse("2026-11-02T13:00:05Z")).written()).isTrue();
        assertThat(it.rows(PROGRESS)).containsExactly(
                p0Written + "2026-11-02 13:00:05+00",
                it.topics.aggregates() + "|1|0|null|2026-11-02 13:00:05+00");

        // the clock set back: checked at once, but written_at never moves backwards
        clock.advance(Duration.ofMinutes(-30));
        assertThat(awaitCheckAt(Instant.parse("2026-11-02T12:30:05Z")).written()).isTrue();
        assertThat(it.rows(PROGRESS)).containsExactly(
                p0Written + "2026-11-02 13:00:05+00",
                it.topics.aggregates() + "|1|0|null|2026-11-02 13:00:05+00");
        assertThat(checks).allSatisfy(c -> assertThat(c.lag()).containsOnlyKeys(p0, p1));
    }

    @Test
    void shouldNotMoveWrittenAtWhileAPartitionLags() throws Exception {
        UsageWindowKey a = Aggregates.key().org("acme").hour(T0).build();
        UsageWindowKey b = Aggregates.key().org("globex").hour(T0).build();
        it.sendTo(0, a, Aggregates.totals().events(1).version(1).build());
        it.sendTo(1, b, Aggregates.totals().events(1).version(1).build());
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);
        String p0Row = it.topics.aggregates() + "|0|1|2026-11-02 10:05:00+00|2026-11-02 12:00:00+00";
        String p1Row = it.topics.aggregates() + "|1|1|2026-11-02 10:05:00+00|2026-11-02 12:00:00+00";
        assertThat(it.rows(PROGRESS)).containsExactly(p0Row, p1Row);

        // partition 0 falls 3 records behind; no poll returns anything; an hour passes
        holdBack.set(true);
        await().atMost(TIMEOUT).untilTrue(heldBack);
        it.sendTo(0, a, Aggregates.totals().events(2).version(2).build());
        it.sendTo(0, a, Aggregates.totals().events(3).version(3).build());
        it.sendTo(0, b, Aggregates.totals().events(7).version(7).build());
        it.flush();
        clock.advance(Duration.ofHours(1));

        Check lagging = awaitCheckAt(Instant.parse("2026-11-02T13:00:00Z"));
        assertThat(lagging).isEqualTo(new Check(lagging.at(), Map.of(p0, 3L, p1, 0L), false));
        assertThat(it.rows(PROGRESS)).containsExactly(p0Row, p1Row);
        assertThat(it.rows("SELECT org_id, events FROM metering.usage_hourly ORDER BY org_id"))
                .containsExactly("acme|1", "globex|1");

        // caught up again: the batch itself moves partition 0 (clock 13:00); partition 1 waits for
        // the next check, due at 14:00 on the sink's clock, which finds both caught up
        holdBack.set(false);
        await().atMost(TIMEOUT).until(it::everythingCommitted);
        assertThat(it.rows(PROGRESS)).containsExactly(
                it.topics.aggregates() + "|0|4|2026-11-02 10:05:00+00|2026-11-02 13:00:00+00", p1Row);
        clock.advance(Duration.ofHours(1));
        Check caughtUp = awaitCheckAt(Instant.parse("2026-11-02T14:00:00Z"));
        assertThat(caughtUp).isEqualTo(new Check(caughtUp.at(), Map.of(p0, 0L, p1, 0L), true));
        assertThat(it.rows(PROGRESS)).containsExactly(
                it.topics.aggregates() + "|0|4|2026-11-02 10:05:00+00|2026-11-02 14:00:00+00",
                it.topics.aggregates() + "|1|1|2026-11-02 10:05:00+00|2026-11-02 14:00:00+00");
        assertThat(it.rows("SELECT org_id, events FROM metering.usage_hourly ORDER BY org_id"))
                .containsExactly("acme|3", "globex|7");
    }

    private Check awaitCheckAt(Instant at) {
        await().atMost(TIMEOUT).until(() -> checkAt(at).isPresent());
        List<Check> all = checks.stream().filter(c -> c.at().equals(at)).toList();
        assertThat(all).hasSize(1);
        return all.get(0);
    }

    private Optional<Check> checkAt(Instant at) {
        return checks.stream().filter(c -> c.at().equals(at)).findFirst();
    }

    /** Waits until the loop has started {@code n} more polls: at least one full iteration ran meanwhile. */
    private void awaitPolls(int n) {
        int target = polls.get() + n;
        await().atMost(TIMEOUT).until(() -> polls.get() >= target);
    }
}
