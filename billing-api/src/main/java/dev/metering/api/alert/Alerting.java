package dev.metering.api.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.account.BillingService;
import dev.metering.api.webhook.WebhookRepository;
import dev.metering.api.webhook.WebhookRoutes;
import dev.metering.api.webhook.WebhookSender;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alerts in one API instance: the detector (every {@link #DETECT_EVERY}), the webhook sender
 * (every {@link #SEND_EVERY}, and woken as soon as an alert is recorded, so a new alert does not
 * wait for the end of the detection pass or the next poll) and the webhook routes. Its own
 * threads, so neither delays the caches or the HTTP server, and at most one pooled connection each
 * for detection and sending, so checks never wait for a connection behind them.
 */
public final class Alerting implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Alerting.class);

    private final AlertDetector detector;
    private final WebhookSender sender;
    private final WebhookRoutes routes;
    private final ScheduledExecutorService scheduler;
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private volatile boolean paused;
    // every second: a quarter of the polling of 250 ms passes, for up to a second more between a
    // crossing and its webhook (docs/benchmarks.md, AlertLatencyBenchmark)
    static final Duration DETECT_EVERY = Duration.ofSeconds(1);
    static final Duration SEND_EVERY = Duration.ofSeconds(1);

    public Alerting(BillingService service, DSLContext dsl, ObjectMapper mapper, PrometheusRegistry registry, Clock clock) {
        AlertMetrics metrics = new AlertMetrics(registry);
        // detection and sending each hold at most one connection of the pool the checks use
        DSLContext detecting = BoundedConnections.bound(dsl, 1);
        DSLContext sending = BoundedConnections.bound(dsl, 1);
        this.detector = new AlertDetector(service, new AlertRepository(detecting, new AlertPayloads(mapper)), detecting,
                metrics, clock);
        this.sender = new WebhookSender(new WebhookRepository(sending), metrics, clock);
        this.routes = new WebhookRoutes(new WebhookRepository(dsl), mapper, clock);
        this.scheduler = Executors.newScheduledThreadPool(3, r -> {
            Thread t = new Thread(r, "billing-api-alerts");
            t.setDaemon(true);
            return t;
        });
    }

    public Alerting start() {
        detector.onRecorded(this::wakeSender);
        scheduler.scheduleWithFixedDelay(() -> guarded("alert detection", detector::runOnce),
                DETECT_EVERY.toMillis(), DETECT_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> guarded("webhook sending", sender::runOnce),
                SEND_EVERY.toMillis(), SEND_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> guarded("webhook backlog gauge", sender::measure), 5, 5, TimeUnit.SECONDS);
        return this;
    }

    /** One sender pass soon; wakes arriving while one is queued share it. */
    private void wakeSender() {
        if (wakePending.compareAndSet(false, true)) {
            try {
                scheduler.execute(() -> {
                    wakePending.set(false);
                    guarded("webhook sending", sender::runOnce);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                wakePending.set(false);
            }
        }
    }

    /**
     * Stops (true) or resumes (false) detection and sending after the pass in flight; resumed, they
     * go on from their stored state, so nothing is lost or recorded twice. {@code CheckBenchmark
     * alerts=alternate} measures what alerts cost the checks with it, in one server run.
     */
    public void pause(boolean pause) {
        this.paused = pause;
    }

    private void guarded(String what, Runnable r) {
        if (paused) {
            return;
        }
        try {
            r.run();
        } catch (RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                // close() interrupts a pass in flight: the next start resumes from the stored state
                log.debug("{} stopped by shutdown: {}", what, e.toString());
            } else {
                log.warn("{} failed: {}", what, e.toString());
            }
        } catch (Error e) {
            // thrown on, it would end this repeating task for good, and alerts would stop unseen
            log.error("{} failed: {}", what, e.toString(), e);
        }
    }

    public AlertDetector detector() {
        return detector;
    }

    public WebhookSender sender() {
        return sender;
    }

    public WebhookRoutes routes() {
        return routes;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        detector.close();
        sender.close();
    }
}
