package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.metering.app.BenchSteadyState.Sample;
import dev.metering.app.BenchSteadyState.Settings;
import dev.metering.app.BenchSteadyState.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class BenchSteadyStateTest {

    /** 5 s warm-up, 15 s hold, lag at most 2 s of traffic at the end and grown at most 0.5 s. */
    private static final Settings SETTINGS = new Settings(5, 15, 2, 0.5, 0.7, 1.2, 1, 8);

    /** A sample every 250 ms over warm-up and hold: {@code sent(t)} and {@code visible(t)} events. */
    private static List<Sample> samples(DoubleUnaryOperator sent, DoubleUnaryOperator visible) {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i <= 80; i++) {
            double t = i * 0.25;
            samples.add(new Sample(t, (long) sent.applyAsDouble(t), (long) Math.max(0, visible.applyAsDouble(t))));
        }
        return samples;
    }

    @Test
    void shouldJudgeAStepWhoseLagStaysSmallAsSustained() {
        Step s = BenchSteadyState.judge(samples(t -> 1000 * t, t -> 1000 * (t - 0.5)), 1000, 990, 0, SETTINGS);

        assertThat(s.sustained()).isTrue();
        assertThat(s.offered()).isTrue();
        assertThat(s.midLag()).isCloseTo(0.5, within(1e-9));
        assertThat(s.endLag()).isCloseTo(0.5, within(1e-9));
        assertThat(s.sentRate()).isCloseTo(1000, within(1e-9));
        assertThat(s.writtenRate()).isCloseTo(1000, within(1e-9));
        assertThat(s.readRate()).isEqualTo(990);
    }

    @Test
    void shouldJudgeAGrowingLagAsNotSustainedEvenWhileItIsUnderTheBound() {
        // written at 90% of the offered rate: lag 1.25 s in the middle of the hold, 1.9 s at its end
        Step s = BenchSteadyState.judge(samples(t -> 1000 * t, t -> 900 * t), 1000, 900, 0, SETTINGS);

        assertThat(s.endLag()).isCloseTo(1.9, within(1e-9)).isLessThan(SETTINGS.maxLag());
        assertThat(s.midLag()).isCloseTo(1.25, within(1e-9));
        assertThat(s.sustained()).isFalse();
    }

    @Test
    void shouldJudgeALagOverTheBoundAsNotSustainedEvenWhenItDoesNotGrow() {
        Step s = BenchSteadyState.judge(samples(t -> 1000 * t, t -> 1000 * (t - 2.5)), 1000, 1000, 0, SETTINGS);

        assertThat(s.endLag()).isCloseTo(2.5, within(1e-9));
        assertThat(s.sustained()).isFalse();
    }

    @Test
    void shouldJudgeTheEventLogsLagAtTheEndOfTheHold() {
        Step s = BenchSteadyState.judge(samples(t -> 1000 * t, t -> 1000 * (t - 0.5)), 1000, 1000, 3000, SETTINGS);

        assertThat(s.endLag()).isCloseTo(3.0, within(1e-9));
        assertThat(s.sustained()).isFalse();
    }

    @Test
    void shouldReportARateTheBenchCouldNotOfferAsNotOffered() {
        Step s = BenchSteadyState.judge(samples(t -> 900 * t, t -> 900 * t), 1000, 900, 0, SETTINGS);

        assertThat(s.offered()).isFalse();
        assertThat(s.sustained()).isFalse();
    }

    /** A pipeline that keeps up with anything up to {@code capacity} events/s. */
    private static BenchSteadyState.StepRunner capacity(double capacity, List<Double> tried) {
        return rate -> {
            tried.add(rate);
            boolean ok = rate <= capacity;
            return new Step(rate, rate, rate, ok ? rate : capacity, 0.5, ok ? 0.5 : 5, true, ok);
        };
    }

    @Test
    void shouldRampUpFromAFractionOfTheGuessThenBisectOnce() throws Exception {
        List<Double> tried = new ArrayList<>();

        BenchSteadyState.Result r = BenchSteadyState.ramp(12_000, SETTINGS, capacity(10_500, tried));

        assertThat(tried).containsExactly(8_400.0, 10_000.0, 12_000.0, 11_000.0);
        assertThat(r.sustained()).isEqualTo(10_000);
        assertThat(r.producerBound()).isFalse();
        assertThat(r.ceilingFound()).isTrue();
        assertThat(r.steps()).hasSize(4);
    }

    @Test
    void shouldRampDownWhenTheFirstRateIsNotSustained() throws Exception {
        List<Double> tried = new ArrayList<>();

        BenchSteadyState.Result r = BenchSteadyState.ramp(10_000, SETTINGS, capacity(5_000, tried));

        // 7,000 fails, 5,800 fails, 4,800 holds; then the bisection between 4,800 and 5,800
        assertThat(tried).containsExactly(7_000.0, 5_800.0, 4_800.0, 5_300.0);
        assertThat(r.sustained()).isEqualTo(4_800);
    }

    @Test
    void shouldStopAndSayWhenTheBenchCannotOfferTheRate() throws Exception {
        List<Double> tried = new ArrayList<>();
        BenchSteadyState.StepRunner producerCapped = rate -> {
            tried.add(rate);
            boolean offered = rate <= 9_000;
            return new Step(rate, Math.min(rate, 9_000), rate, rate, 0.5, 0.5, offered, offered);
        };

        BenchSteadyState.Result r = BenchSteadyState.ramp(10_000, SETTINGS, producerCapped);

        assertThat(tried).containsExactly(7_000.0, 8_400.0, 10_000.0);
        assertThat(r.sustained()).isEqualTo(8_400);
        assertThat(r.producerBound()).isTrue();
    }

    @Test
    void shouldSayTheAnswerIsOnlyALowerBoundWhenNoRateFailed() throws Exception {
        List<Double> tried = new ArrayList<>();

        BenchSteadyState.Result r = BenchSteadyState.ramp(1_000, new Settings(5, 15, 2, 0.5, 0.7, 1.2, 1, 3),
                capacity(1_000_000, tried));

        assertThat(tried).containsExactly(700.0, 840.0, 1_000.0);
        assertThat(r.sustained()).isEqualTo(1_000);
        assertThat(r.ceilingFound()).isFalse();
    }

    @Test
    void shouldRoundRatesToTwoSignificantDigits() {
        assertThat(BenchSteadyState.roundRate(12_345)).isEqualTo(12_000);
        assertThat(BenchSteadyState.roundRate(987)).isEqualTo(990);
        assertThat(BenchSteadyState.roundRate(55.4)).isEqualTo(55);
        assertThat(BenchSteadyState.roundRate(0.2)).isEqualTo(1);
    }
}
