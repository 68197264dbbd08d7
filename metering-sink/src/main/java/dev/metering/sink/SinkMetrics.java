package dev.metering.sink;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The sink's Prometheus metrics, registered in a registry of its own (several sinks may run in
 * one JVM: tests, dev mode).
 */
final class SinkMetrics {

    final PrometheusRegistry registry;
    final Counter batches;
    final Counter records;
    final Counter rowsUpserted;
    final Counter staleIgnored;
    final Counter collapsed;
    final Counter statements;
    final Counter upsertSeconds;
    final Counter retries;
    final Counter deadLetters;
    final Counter lateEvents;
    final Counter isolated;
    final Counter heartbeats;
    final Gauge lag;
    final Gauge streamsInputLag;
    final Gauge streamsProgressAge;
    final Gauge usageProgressAge;
    final Counter pipelineWatchFailures;
    final Histogram batchSeconds;
    final Histogram commitSeconds;

    SinkMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        batches = Counter.builder().name("metering_sink_batches")
                .help("Batches written to PostgreSQL and committed").register(registry);
        records = Counter.builder().name("metering_sink_records")
                .help("Kafka records consumed and committed").labelNames("topic").register(registry);
        rowsUpserted = Counter.builder().name("metering_sink_rows_upserted")
                .help("Window rows inserted or changed").labelNames("table").register(registry);
        staleIgnored = Counter.builder().name("metering_sink_stale_updates_ignored")
                .help("Window updates the version guard ignored: the table already held that version or a newer one")
                .labelNames("table").register(registry);
        upsertSeconds = Counter.builder().name("metering_sink_upsert_seconds")
                .help("Time spent in each table's upsert statements, their triggers included (usage_hourly's keep "
                        + "usage_daily and usage_lifetime, org_usage_hourly's org_usage_lifetime)")
                .labelNames("table").register(registry);
        statements = Counter.builder().name("metering_sink_upsert_statements")
                .help("Multi-row upsert statements sent (rows per statement = rows / statements)")
                .labelNames("table").register(registry);
        collapsed = Counter.builder().name("metering_sink_updates_collapsed")
                .help("Window updates superseded by a newer version of the same key in the same batch")
                .register(registry);
        retries = Counter.builder().name("metering_sink_retries")
                .help("Batch write attempts that failed and were retried").labelNames("kind").register(registry);
        deadLetters = Counter.builder().name("metering_sink_dead_letters")
                .help("Dead letters stored, by reason").labelNames("reason").register(registry);
        lateEvents = Counter.builder().name("metering_sink_late_events")
                .help("Late events stored").register(registry);
        isolated = Counter.builder().name("metering_sink_unwritable_updates")
                .help("Window updates the database refused for good, dead-lettered by the sink").register(registry);
        heartbeats = Counter.builder().name("metering_sink_heartbeats")
                .help("Idle heartbeat checks: written (caught up, sink_progress.written_at moved to now), "
                        + "lagging (not caught up, nothing written), failed").labelNames("outcome").register(registry);
        lag = Gauge.builder().name("metering_sink_consumer_lag")
                .help("Records not yet consumed, per partition").labelNames("topic", "partition").register(registry);
        streamsInputLag = Gauge.builder().name("metering_sink_streams_input_lag")
                .help("Records of the events topic the streams application has not committed yet (all partitions)")
                .register(registry);
        streamsProgressAge = Gauge.builder().name("metering_sink_streams_progress_age_seconds")
                .help("Age of the newest time T such that streams processed every event appended before T; -1 unknown")
                .register(registry);
        usageProgressAge = Gauge.builder().name("metering_sink_usage_progress_age_seconds")
                .help("Age of the oldest usage_as_of of this sink's partitions (streams AND sink done); -1 unknown")
                .register(registry);
        pipelineWatchFailures = Counter.builder().name("metering_sink_pipeline_watch_failures")
                .help("Pipeline watch rounds that failed (broker or database away)").register(registry);
        batchSeconds = Histogram.builder().name("metering_sink_batch_write_seconds")
                .help("Time to write one batch and commit its offsets, retries included").register(registry);
        commitSeconds = Histogram.builder().name("metering_sink_offset_commit_seconds")
                .help("Time to commit one batch's offsets to Kafka").register(registry);
    }

    void recordBatch(PreparedBatch batch, SinkWriter.Result result, double seconds) {
        batches.inc();
        collapsed.inc(batch.collapsed());
        result.usage().forEach((target, outcome) -> {
            rowsUpserted.labelValues(target.tableName()).inc(outcome.written());
            staleIgnored.labelValues(target.tableName()).inc(outcome.stale());
            statements.labelValues(target.tableName()).inc(outcome.statements());
            upsertSeconds.labelValues(target.tableName()).inc(outcome.nanos() / 1e9);
        });
        result.deadLetters().forEach((reason, n) -> deadLetters.labelValues(reason).inc(n));
        lateEvents.inc(result.lateEvents());
        isolated.inc(result.isolated());
        batchSeconds.observe(seconds);
    }

    void recordConsumed(Map<TopicPartition, Long> counts) {
        counts.forEach((tp, n) -> records.labelValues(tp.topic()).inc(n));
    }

    /** Partitions this sink no longer owns stop reporting lag (their new owner reports it). */
    void forgetLag(java.util.Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            lag.remove(tp.topic(), Integer.toString(tp.partition()));
        }
    }

    void updateLag(Consumer<?, ?> consumer) {
        Set<TopicPartition> assignment = consumer.assignment();
        for (TopicPartition tp : assignment) {
            consumer.currentLag(tp).ifPresent(lagValue ->
                    lag.labelValues(tp.topic(), Integer.toString(tp.partition())).set(lagValue));
        }
    }
}
