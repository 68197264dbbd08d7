package dev.metering.api.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.account.BillingService;
import dev.metering.api.webhook.WebhookRepository;
import dev.metering.api.webhook.WebhookRoutes;
import dev.metering.api.webhook.WebhookSender;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alerts in one API instance: the detector (every 250 ms), the webhook sender (every 250 ms) and
 * the webhook routes. Its own threads, so neither delays the caches or the HTTP server.
 */
public final class Alerting implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Alerting.class);

    private final AlertDetector detector;
    private final WebhookSender sender;
    private final WebhookRoutes routes;
    private final ScheduledExecutorService scheduler;

    public Alerting(BillingService service, DSLContext dsl, ObjectMapper mapper, PrometheusRegistry registry, Clock clock) {
        AlertMetrics metrics = new AlertMetrics(registry);
        WebhookRepository webhooks = new WebhookRepository(dsl);
        this.detector = new AlertDetector(service, new AlertRepository(dsl, new AlertPayloads(mapper)), metrics, clock);
        this.sender = new WebhookSender(webhooks, metrics, clock);
        this.routes = new WebhookRoutes(webhooks, mapper, clock);
        this.scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "billing-api-alerts");
            t.setDaemon(true);
            return t;
        });
    }

    public Alerting start() {
        // new alerts are sent at once rather than at the sender's next poll
        scheduler.scheduleWithFixedDelay(() -> guarded("alert detection", () -> {
            if (detector.runOnce() > 0) {
                sender.runOnce();
            }
        }), 250, 250, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> guarded("webhook sending", sender::runOnce), 250, 250, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> guarded("webhook backlog gauge", sender::measure), 5, 5, TimeUnit.SECONDS);
        return this;
    }

    private static void guarded(String what, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("{} failed: {}", what, e.toString());
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
