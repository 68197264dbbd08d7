package dev.metering.api.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.devstack.MutableClock;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long T0 = 1_000 * SECOND;

    @Test
    void shouldAllowTheBurstAtOnceThenRefuseWithTheWaitForTheNextToken() {
        TokenBucket b = new TokenBucket(2, Duration.ofSeconds(1), 3, T0);
        assertThat(b.take(T0)).isZero();
        assertThat(b.take(T0)).isZero();
        assertThat(b.take(T0)).isZero();
        assertThat(b.take(T0)).isEqualTo(SECOND / 2);
        assertThat(b.waitNanos(T0)).isEqualTo(SECOND / 2);
    }

    @Test
    void shouldRefillAtTheRateAndNeverAboveTheBurst() {
        TokenBucket b = new TokenBucket(2, Duration.ofSeconds(1), 3, T0);
        for (int i = 0; i < 3; i++) {
            b.take(T0);
        }
        assertThat(b.take(T0 + SECOND / 2 - 1)).isEqualTo(1);
        assertThat(b.take(T0 + SECOND / 2)).isZero();
        assertThat(b.take(T0 + SECOND / 2)).isEqualTo(SECOND / 2);
        // an hour idle refills to the burst, not to 7,200 tokens
        long later = T0 + 3600 * SECOND;
        assertThat(b.isFull(later)).isTrue();
        assertThat(b.take(later)).isZero();
        assertThat(b.take(later)).isZero();
        assertThat(b.take(later)).isZero();
        assertThat(b.take(later)).isEqualTo(SECOND / 2);
    }

    @Test
    void shouldTakeNothingWhenRefusing() {
        TokenBucket b = new TokenBucket(1, Duration.ofSeconds(1), 1, T0);
        assertThat(b.take(T0)).isZero();
        for (int i = 0; i < 100; i++) {
            assertThat(b.take(T0)).isEqualTo(SECOND);
        }
        assertThat(b.take(T0 + SECOND)).isZero();
    }

    @Test
    void shouldCountPerMinuteBudgets() {
        TokenBucket b = new TokenBucket(20, Duration.ofMinutes(1), 20, T0);
        for (int i = 0; i < 20; i++) {
            assertThat(b.take(T0)).isZero();
        }
        assertThat(b.take(T0)).isEqualTo(3 * SECOND);
        assertThat(b.take(T0 + 3 * SECOND)).isZero();
    }

    @Test
    void shouldKeepABucketPerKeyAndBudgetAndRoundRetryAfterUp() {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-22T18:30:00Z"));
        RateLimits limits = new RateLimits(new RateLimitSettings(1, 2, 10, 1, 3), clock, new PrometheusRegistry());
        assertThat(limits.takeForKey("a", RateLimits.Budget.GENERAL)).isZero();
        assertThat(limits.takeForKey("a", RateLimits.Budget.GENERAL)).isZero();
        assertThat(limits.takeForKey("a", RateLimits.Budget.GENERAL)).isEqualTo(SECOND);
        assertThat(limits.takeForKey("b", RateLimits.Budget.GENERAL)).isZero();
        assertThat(limits.takeForKey("a", RateLimits.Budget.CHECK)).isZero();
        assertThat(limits.takeForKey("a", RateLimits.Budget.CHECK)).isEqualTo(SECOND / 10);
        assertThat(RateLimits.retryAfterSeconds(SECOND / 10)).isEqualTo(1);
        assertThat(RateLimits.retryAfterSeconds(SECOND + 1)).isEqualTo(2);

        for (int i = 0; i < 3; i++) {
            assertThat(limits.failedAuthWait("10.0.0.1")).isZero();
            limits.failedAuth("10.0.0.1");
        }
        assertThat(limits.failedAuthWait("10.0.0.1")).isEqualTo(20 * SECOND);
        assertThat(limits.failedAuthWait("10.0.0.2")).isZero();
        clock.advance(Duration.ofSeconds(20));
        assertThat(limits.failedAuthWait("10.0.0.1")).isZero();
    }

    @Test
    void shouldNotLimitWhenTheRateIsZero() {
        RateLimits limits = new RateLimits(RateLimitSettings.OFF, new MutableClock(Instant.EPOCH), new PrometheusRegistry());
        for (int i = 0; i < 1000; i++) {
            assertThat(limits.takeForKey("a", RateLimits.Budget.GENERAL)).isZero();
            limits.failedAuth("10.0.0.1");
        }
        assertThat(limits.failedAuthWait("10.0.0.1")).isZero();
    }
}
