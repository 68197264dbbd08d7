package dev.metering.app;

import dev.metering.app.demo.TrafficGenerator;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * (b) sustained: the highest offered rate the pipeline keeps up with. Each step offers one rate
 * (events over the 1,000 bench orgs, paced every millisecond) for a warm-up, then holds it; the
 * step starts on a drained pipeline. A step is sustained when, with lag = events sent minus events
 * visible in PostgreSQL (the org totals; with the event log on also {@code usage_events} at the
 * end), in seconds of traffic at the offered rate:
 * <ol>
 *   <li>the lag at the end of the hold (mean over its last 2 s) is at most {@code maxLag};</li>
 *   <li>it is not growing: end minus middle of the hold (means over 2 s) is at most {@code maxGrowth};</li>
 *   <li>the bench really offered the rate: at least 97% of it was sent during the hold.</li>
 * </ol>
 * The ramp starts at a fraction of a guess (the burst rate), multiplies the rate by {@code factor}
 * while steps are sustained (divides while they are not), then bisects between the last sustained
 * and the first failed rate {@code refine} times.
 */
final class BenchSteadyState {

    /** What the ramp is asked to do. */
    record Settings(double warmSeconds, double holdSeconds, double maxLag, double maxGrowth, double startFraction, double factor,
                    int refine, int maxSteps) {
    }

    /** One sample of a step: seconds since the step started, events sent, events visible (both since the step started). */
    record Sample(double t, long sent, long visible) {
    }

    /** The outcome of one step; lags in seconds of traffic at the offered rate. */
    record Step(double rate, double sentRate, double readRate, double writtenRate, double midLag, double endLag,
                boolean offered, boolean sustained) {
    }

    /**
     * The ramp's answer: the highest sustained rate (0: none); whether the bench's producer capped
     * it; whether a higher rate failed (else the answer is only a lower bound); every step.
     */
    record Result(double sustained, boolean producerBound, boolean ceilingFound, List<Step> steps) {
    }

    private final BenchPipeline pipeline;
    private final Settings settings;
    private final PrintStream out;
    private final TrafficGenerator generator = new TrafficGenerator(29, Clock.systemUTC());
    private final AtomicLong failures = new AtomicLong();
    private long nextEvent;

    BenchSteadyState(BenchPipeline pipeline, Settings settings, PrintStream out) {
        this.pipeline = pipeline;
        this.settings = settings;
        this.out = out;
    }

    /** Runs one step at a rate. */
    interface StepRunner {
        Step run(double rate) throws Exception;
    }

    Result ramp(double guess) throws Exception {
        out.printf("(b) sustained: steps of %.0f s warm-up + %.0f s hold; sustained = lag at the end of the hold <= %.1f s of "
                + "traffic and grown <= %.1f s since its middle%n", settings.warmSeconds(), settings.holdSeconds(),
                settings.maxLag(), settings.maxGrowth());
        return ramp(guess, settings, this::step);
    }

    /** The ramp of the class comment, from {@code guess}. */
    static Result ramp(double guess, Settings settings, StepRunner runner) throws Exception {
        List<Step> steps = new ArrayList<>();
        double rate = roundRate(guess * settings.startFraction());
        double pass = 0;
        double fail = Double.POSITIVE_INFINITY;
        boolean producerBound = false;
        while (steps.size() < settings.maxSteps()) {
            Step s = runner.run(rate);
            steps.add(s);
            if (!s.offered()) {
                producerBound = true;
                break;
            }
            if (s.sustained()) {
                pass = rate;
                if (fail < Double.POSITIVE_INFINITY) {
                    break;
                }
                rate = roundRate(rate * settings.factor());
            } else {
                fail = rate;
                if (pass > 0) {
                    break;
                }
                rate = roundRate(rate / settings.factor());
                if (rate < 10) {
                    break;
                }
            }
        }
        for (int i = 0; i < settings.refine() && !producerBound && pass > 0 && fail < Double.POSITIVE_INFINITY
                && steps.size() < settings.maxSteps(); i++) {
            double mid = roundRate(Math.sqrt(pass * fail));
            if (mid <= pass || mid >= fail) {
                break;
            }
            Step s = runner.run(mid);
            steps.add(s);
            if (!s.offered()) {
                producerBound = true;
                break;
            }
            if (s.sustained()) {
                pass = mid;
            } else {
                fail = mid;
            }
        }
        return new Result(pass, producerBound, fail < Double.POSITIVE_INFINITY, steps);
    }

    /**
     * Offers {@code rate} for {@code seconds}, unjudged, then waits until PostgreSQL holds every
     * event: the pipeline's JVM has just started, and its JIT compilers spend a fifth of the
     * machine for about a minute on code that runs at such rates (printed), which is not what a
     * running pipeline sustains.
     */
    void warm(double rate, double seconds) throws Exception {
        if (seconds <= 0) {
            return;
        }
        out.printf("(b) sustained: first %.0f s of %,.0f/s, not judged ...%n", seconds, rate);
        Load load = new Load(rate);
        Map<String, Long> cpuBefore = pipeline.cpuSample();
        long start = System.nanoTime();
        load.thread.start();
        try {
            Thread.sleep((long) (seconds * 1000));
        } finally {
            load.stop();
        }
        double took = (System.nanoTime() - start) / 1e9;
        out.printf("    CPU an event sent meanwhile: %s%n", CpuSampler.perEvent(cpuBefore, pipeline.cpuSample(), load.sent.get(), took));
        load.awaitDrained();
    }

    /** Offers {@code rate} for warm-up + hold on a drained pipeline and judges the step. */
    private Step step(double rate) throws Exception {
        Load load = new Load(rate);
        AtomicLong sent = load.sent;
        double readBefore = 0;
        long holdStart = 0;
        long sentAtHold = 0;
        Map<String, Long> cpuAtHold = Map.of();
        List<Sample> samples = new ArrayList<>();
        double total = settings.warmSeconds() + settings.holdSeconds();
        long start = System.nanoTime();
        load.thread.start();
        try (Connection c = pipeline.connect()) {
            boolean holding = false;
            while (true) {
                double t = (System.nanoTime() - start) / 1e9;
                samples.add(new Sample(t, sent.get(), BenchPipeline.orgEvents(c) - load.orgBase));
                if (!holding && t >= settings.warmSeconds()) {
                    holding = true;
                    cpuAtHold = pipeline.cpuSample();
                    sentAtHold = sent.get();
                    holdStart = System.nanoTime();
                    readBefore = pipeline.streamsRead();
                }
                if (t >= total) {
                    break;
                }
                LockSupport.parkNanos(250_000_000);
            }
            // each window runs from just after one CPU sample to just after the other
            Map<String, Long> cpuAtEnd = pipeline.cpuSample();
            long sentInHold = sent.get() - sentAtHold;
            double held = (System.nanoTime() - holdStart) / 1e9;
            double read = (pipeline.streamsRead() - readBefore) / held;
            load.stop();
            long logLag = pipeline.tracksEventLog() ? sent.get() - (pipeline.eventLogRows(c) - load.logBase) : 0;
            load.checkAccepted();
            Step s = judge(samples, rate, read, logLag, settings);
            out.printf("    %,8.0f/s offered: sent %,.0f/s, streams read %,.0f/s, PostgreSQL %,.0f/s; lag %.2f s (middle) "
                    + "%.2f s (end)%s -> %s%n", rate, s.sentRate(), s.readRate(), s.writtenRate(), s.midLag(), s.endLag(),
                    pipeline.tracksEventLog() ? String.format(", event log %.2f s", logLag / rate) : "",
                    !s.offered() ? "not offered (the bench's producer is the limit)" : s.sustained() ? "sustained" : "NOT sustained");
            out.printf("      CPU an event sent during the hold: %s%n", CpuSampler.perEvent(cpuAtHold, cpuAtEnd, sentInHold, held));
            // the next step starts on a drained pipeline, so one overloaded step does not fail the next
            load.awaitDrained();
            return s;
        } finally {
            load.stop.set(true); // a step that failed must not leave its load running
        }
    }

    /** The load at one rate (not started), with the totals PostgreSQL held before it. */
    private final class Load {
        final long orgBase;
        final long logBase;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong sent = new AtomicLong();
        final Thread thread;

        Load(double rate) throws SQLException {
            try (Connection c = pipeline.connect()) {
                orgBase = BenchPipeline.orgEvents(c);
                logBase = pipeline.eventLogRows(c);
            }
            thread = new Thread(() -> offer(rate, sent, stop), "bench-steady-load");
            thread.setDaemon(true);
        }

        void stop() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
        }

        void checkAccepted() {
            if (failures.get() > 0) {
                throw new IllegalStateException(failures.get() + " events were not accepted by the broker");
            }
        }

        /** Fails if the broker refused any event, else waits until PostgreSQL holds every event sent. */
        void awaitDrained() throws Exception {
            checkAccepted();
            pipeline.awaitVisible(orgBase + sent.get(), logBase + sent.get(), Duration.ofMinutes(5));
        }
    }

    /** Sends at {@code rate} events/s until {@code stop}, catching up every millisecond. */
    private void offer(double rate, AtomicLong sent, AtomicBoolean stop) {
        long start = System.nanoTime();
        long n = 0;
        while (!stop.get()) {
            long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
            while (n < due && !stop.get()) {
                int org = BenchPipeline.benchOrg(nextEvent++);
                pipeline.meter().record(generator.next(TrafficGenerator.org(org), 1 + org % 6)).whenComplete((m, e) -> {
                    if (e != null) {
                        failures.incrementAndGet();
                    }
                });
                sent.set(++n);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /**
     * Judges a step from its samples (see the class comment); {@code logLag} is the event log's lag
     * in events once the load stopped (0 when not tracked).
     */
    static Step judge(List<Sample> samples, double rate, double readRate, long logLag, Settings s) {
        double holdStart = s.warmSeconds();
        double holdEnd = s.warmSeconds() + s.holdSeconds();
        double width = Math.min(2, s.holdSeconds() / 4);
        double middle = holdStart + s.holdSeconds() / 2;
        double midLag = meanLag(samples, middle - width / 2, middle + width / 2) / rate;
        double endLag = Math.max(meanLag(samples, holdEnd - width, holdEnd + 1), logLag) / rate;
        Sample first = at(samples, holdStart);
        Sample last = samples.get(samples.size() - 1);
        double seconds = last.t() - first.t();
        double sentRate = (last.sent() - first.sent()) / seconds;
        double writtenRate = (last.visible() - first.visible()) / seconds;
        boolean offered = sentRate >= 0.97 * rate;
        boolean sustained = offered && endLag <= s.maxLag() && endLag - midLag <= s.maxGrowth();
        return new Step(rate, sentRate, readRate, writtenRate, midLag, endLag, offered, sustained);
    }

    private static double meanLag(List<Sample> samples, double from, double to) {
        double sum = 0;
        int n = 0;
        for (Sample x : samples) {
            if (x.t() >= from && x.t() <= to) {
                sum += x.sent() - x.visible();
                n++;
            }
        }
        if (n == 0) {
            throw new IllegalArgumentException("no sample between " + from + " s and " + to + " s");
        }
        return sum / n;
    }

    /** The first sample at or after {@code t}. */
    private static Sample at(List<Sample> samples, double t) {
        for (Sample x : samples) {
            if (x.t() >= t) {
                return x;
            }
        }
        throw new IllegalArgumentException("no sample after " + t + " s");
    }

    /** Rates with two significant digits, so steps read as round numbers. */
    static double roundRate(double rate) {
        if (rate < 100) {
            return Math.max(1, Math.round(rate));
        }
        double unit = Math.pow(10, Math.floor(Math.log10(rate)) - 1);
        return Math.round(rate / unit) * unit;
    }
}
