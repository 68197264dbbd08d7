package dev.metering.api.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Which stage a stale answer blames, from the progress the sinks recorded. */
class FreshnessTest {

    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");
    private static final Duration MAX = Duration.ofSeconds(60);
    private static final Instant RECENT = NOW.minusSeconds(5);
    private static final Instant OLD = NOW.minusSeconds(120);

    @Test
    void shouldBeFreshWhenUsageAsOfIsWithinTheBound() {
        assertThat(Freshness.of(new Freshness.Progress(RECENT, RECENT, RECENT), NOW, NOW, MAX))
                .isEqualTo(new Freshness(RECENT, false, null, null));
    }

    @Test
    void shouldBlameStreamsWhileTheSinkStillWrites() {
        assertThat(Freshness.of(new Freshness.Progress(OLD, RECENT, OLD), NOW, NOW, MAX)).isEqualTo(new Freshness(OLD,
                true, Freshness.Stage.STREAMS, "metering-streams has not processed the events appended since " + OLD));
        assertThat(Freshness.of(new Freshness.Progress(null, RECENT, null), NOW, NOW, MAX).stalled())
                .isEqualTo(Freshness.Stage.STREAMS);
    }

    @Test
    void shouldBlameTheSinkWhenItWroteNothingOrIsBehindStreams() {
        assertThat(Freshness.of(new Freshness.Progress(OLD, OLD, OLD), NOW, NOW, MAX)).isEqualTo(new Freshness(OLD,
                true, Freshness.Stage.SINK, "the sink has written nothing since " + OLD));
        assertThat(Freshness.of(new Freshness.Progress(OLD, RECENT, RECENT), NOW, NOW, MAX)).isEqualTo(new Freshness(OLD,
                true, Freshness.Stage.SINK, "the sink has not written the aggregates of the events appended since " + OLD));
    }

    @Test
    void shouldBlameTheDatabaseWhenThisInstanceCouldNotReadIt() {
        assertThat(Freshness.of(new Freshness.Progress(OLD, OLD, OLD), OLD, NOW, MAX).stalled())
                .isEqualTo(Freshness.Stage.DATABASE);
    }
}
