package dev.metering.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private static final Instant T0 = Instant.parse("2026-11-22T18:30:00Z");

    @Test
    void shouldGrowFourfoldFromFiveSecondsUpToFiveHours() {
        assertThat(Backoff.base(1)).isEqualTo(Duration.ofSeconds(5));
        assertThat(Backoff.base(2)).isEqualTo(Duration.ofSeconds(20));
        assertThat(Backoff.base(3)).isEqualTo(Duration.ofSeconds(80));
        assertThat(Backoff.base(7)).isEqualTo(Duration.ofHours(5));
        assertThat(Backoff.base(40)).isEqualTo(Duration.ofHours(5));
    }

    @Test
    void shouldJitterWithinTwentyPercent() {
        Random random = new Random(7);
        for (int i = 0; i < 1000; i++) {
            Instant next = Backoff.next(2, T0, T0, random);
            assertThat(next).isBetween(T0.plusSeconds(16), T0.plusSeconds(24));
        }
    }

    @Test
    void shouldRetryLastAtTwentyFourHoursThenGiveUp() {
        Random random = new Random(7);
        assertThat(Backoff.next(9, T0.plus(Duration.ofHours(22)), T0, random)).isEqualTo(T0.plus(Duration.ofHours(24)));
        assertThat(Backoff.next(10, T0.plus(Duration.ofHours(24)), T0, random)).isNull();
        // a manual retry opens a new window
        assertThat(Backoff.next(10, T0.plus(Duration.ofHours(24)), T0.plus(Duration.ofHours(24)), random))
                .isBetween(T0.plus(Duration.ofHours(28)), T0.plus(Duration.ofHours(30)));
    }
}
