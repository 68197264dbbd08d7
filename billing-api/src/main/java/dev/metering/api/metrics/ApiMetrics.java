package dev.metering.api.metrics;

import dev.metering.api.check.CheckResult;
import dev.metering.api.check.LimitStatus;
import dev.metering.api.plan.Enforcement;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prometheus metrics of one API instance (own registry, nothing static): requests by route and
 * status with latency histograms, and check decisions by outcome and code (the block rate:
 * {@code sum(rate(metering_checks_total{outcome="blocked"}[5m])) / sum(rate(metering_checks_total[5m]))}),
 * and how many orgs are near a limit (latest check at 80% or more of a hard limit).
 */
public final class ApiMetrics {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("metering_api_requests_total")
            .help("HTTP requests by route, method and status").labelNames("route", "method", "status").register(registry);
    private final Histogram latency = Histogram.builder().name("metering_api_request_duration_seconds")
            .help("HTTP request latency by route").labelNames("route", "method")
            .classicUpperBounds(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
            .classicOnly().register(registry);
    private final Counter checks = Counter.builder().name("metering_checks_total")
            .help("Usage checks by outcome (allowed, blocked, would_block) and code")
            .labelNames("outcome", "code", "mode").register(registry);
    private final Gauge usageAge = Gauge.builder().name("metering_api_usage_age_seconds")
            .help("Seconds since usageAsOf (every event appended before it is processed by streams and written by the sink); -1 when unknown").register(registry);

    private final Gauge pipelineAge = Gauge.builder().name("metering_api_pipeline_age_seconds")
            .help("Seconds since each stage's progress as read from sink_progress: usage (streams and sink done, "
                    + "the usageAsOf of checks), streams (streams alone), sink (the sink wrote what it was given); "
                    + "-1 when unknown").labelNames("stage").register(registry);

    /** Org id → (highest fraction of a hard limit used, when) as of its latest check on this instance. */
    private record Usage(double fraction, Instant at) {
    }

    private final ConcurrentHashMap<String, Usage> latestUsage = new ConcurrentHashMap<>();
    private final Clock clock;

    public ApiMetrics(Clock clock) {
        this.clock = clock;
        GaugeWithCallback.builder().name("metering_orgs_near_limit")
                .help("Orgs whose latest check (within the last hour, on this instance) used at least 80% of a hard limit")
                .callback(cb -> cb.call(orgsNearLimit(0.8))).register(registry);
    }

    public void request(String route, String method, int status, double seconds) {
        requests.labelValues(route, method, Integer.toString(status)).inc();
        latency.labelValues(route, method).observe(seconds);
    }

    public void check(CheckResult r) {
        checks.labelValues(outcome(r), r.code() == null ? "" : r.code(), r.mode().wireName()).inc();
        double max = 0;
        for (LimitStatus l : r.limits()) {
            if (l.definition().enforcement() == Enforcement.HARD && l.limit().signum() > 0) {
                max = Math.max(max, l.used().doubleValue() / l.limit().doubleValue());
            }
        }
        if (latestUsage.size() < 1_000_000 || latestUsage.containsKey(r.orgId())) {
            latestUsage.put(r.orgId(), new Usage(max, clock.instant()));
        }
    }

    /** Orgs whose latest check in the last hour showed at least {@code threshold} of a hard limit used. */
    public long orgsNearLimit(double threshold) {
        Instant since = clock.instant().minus(Duration.ofHours(1));
        latestUsage.values().removeIf(u -> u.at().isBefore(since));
        return latestUsage.values().stream().filter(u -> u.fraction() >= threshold).count();
    }

    public static String outcome(CheckResult r) {
        return !r.allowed() ? "blocked" : r.wouldBlock() ? "would_block" : "allowed";
    }

    public void usageAge(double seconds) {
        usageAge.set(seconds);
    }

    public void pipelineAges(double usage, double streams, double sink) {
        usageAge.set(usage);
        pipelineAge.labelValues("usage").set(usage);
        pipelineAge.labelValues("streams").set(streams);
        pipelineAge.labelValues("sink").set(sink);
    }

    /** For metrics of other parts of the API (alerts, webhooks). */
    public PrometheusRegistry registry() {
        return registry;
    }

    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
