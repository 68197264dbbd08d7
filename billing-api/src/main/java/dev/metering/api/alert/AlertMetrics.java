package dev.metering.api.alert;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** Alert and webhook metrics, registered in the API's registry. */
public final class AlertMetrics {

    private final Counter recorded;
    private final Counter deliveries;
    private final Gauge oldestPending;

    public AlertMetrics(PrometheusRegistry registry) {
        recorded = Counter.builder().name("metering_alerts_recorded_total")
                .help("Alerts recorded by this instance, by type (each crossing is recorded by one instance)")
                .labelNames("type").register(registry);
        deliveries = Counter.builder().name("metering_webhook_deliveries_total")
                .help("Webhook delivery attempts by outcome: delivered, retry (failed, will retry), failed (gave up)")
                .labelNames("outcome").register(registry);
        oldestPending = Gauge.builder().name("metering_webhook_oldest_pending_seconds")
                .help("Age of the oldest pending webhook delivery; 0 when none is pending").register(registry);
    }

    public void recorded(AlertType type) {
        recorded.labelValues(type.wireName()).inc();
    }

    public void delivery(String outcome) {
        deliveries.labelValues(outcome).inc();
    }

    public void oldestPending(double seconds) {
        oldestPending.set(seconds);
    }
}
