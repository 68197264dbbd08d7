package dev.metering.app;

import dev.metering.app.demo.TrafficGenerator;
import dev.metering.avro.UsageEvent;
import dev.metering.events.UsageMeter;
import dev.metering.events.UsageMeterConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "loadgen", mixinStandardHelpOptions = true,
        description = {"Produces realistic usage events with UsageMeter (chat messages with LLM tokens, completions, "
                + "embeddings, uploads, workflow runs; many users and models) at a steady rate, printing progress "
                + "every 2 s.",
            "Configuration (default in brackets): METERING_KAFKA_BOOTSTRAP, METERING_SCHEMA_REGISTRY_URL (required; "
                + "dev mode's when none is set and .metering-dev/ is here), METERING_SCHEMA_REGISTRY_AUTH, "
                + "METERING_TOPIC_PREFIX (metering.), METERING_METER_AUTO_REGISTER (true), METERING_METER_MAX_BLOCK (2s), "
                + "METERING_METER_REQUEST_TIMEOUT (10s), METERING_METER_DELIVERY_TIMEOUT (30s), METERING_METER_LINGER "
                + "(5ms), METERING_METER_CLOSE_TIMEOUT (30s), "
                + "METERING_KAFKA_<PROPERTY> (any Kafka client property)."})
final class LoadgenCommand implements Callable<Integer> {

    @Option(names = "--rate", defaultValue = "1000", description = "events per second (default: ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--orgs", defaultValue = "100", description = "number of orgs, org-00001 ... (default: ${DEFAULT-VALUE})")
    int orgs;

    @Option(names = "--duration", defaultValue = "60s", converter = DurationConverter.class,
            description = "how long to produce, e.g. 30s, 5m (default: ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (rate <= 0 || orgs <= 0 || duration.isZero() || duration.isNegative()) {
            throw new UserException("--rate, --orgs and --duration must be positive", 2, null);
        }
        UsageMeterConfig config = UsageMeterConfig.from(DevAddresses.source(), Clock.systemUTC());
        TrafficGenerator generator = new TrafficGenerator(seed, Clock.systemUTC());
        AtomicBoolean stop = new AtomicBoolean();
        Signals.onInterruptOrTerminate(() -> stop.set(true));
        long total = rate * Math.max(1, duration.toMillis()) / 1000;
        try (UsageMeter meter = UsageMeter.create(config)) {
            long start = System.nanoTime();
            long nextReport = start + 2_000_000_000L;
            long produced = 0;
            long lastProduced = 0;
            long lastReportAt = start;
            while (produced < total && !stop.get()) {
                long due = Math.min(total, (System.nanoTime() - start) * rate / 1_000_000_000L + 1);
                while (produced < due) {
                    int index = 1 + (int) (produced * 7919 % orgs);
                    UsageEvent e = generator.next(TrafficGenerator.org(index), 1 + index % 6);
                    meter.record(e);
                    produced++;
                }
                long now = System.nanoTime();
                if (now >= nextReport) {
                    double r = (produced - lastProduced) / ((now - lastReportAt) / 1e9);
                    long left = total - produced;
                    System.out.printf("loadgen: %,d / %,d events (%d%%), %,.0f events/s, acked %,d, failed %,d, ETA %ds%n",
                            produced, total, produced * 100 / total, r, meter.sent(), meter.failed(),
                            (long) Math.ceil(left / (double) rate));
                    lastProduced = produced;
                    lastReportAt = now;
                    nextReport = now + 2_000_000_000L;
                }
                long sleepNanos = start + (produced * 1_000_000_000L / rate) - System.nanoTime();
                if (sleepNanos > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(Math.min(sleepNanos, 50_000_000L));
                }
            }
            meter.flush();
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("loadgen: done, %,d events in %.1f s (%,.0f events/s), acked %,d, failed %,d%n",
                    produced, seconds, produced / seconds, meter.sent(), meter.failed());
            return meter.failed() == 0 ? 0 : 1;
        }
    }
}
