package dev.metering.app;

import dev.metering.events.config.ConfigSource;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "sink", mixinStandardHelpOptions = true,
        description = {"Runs the sink: aggregates and dead letters from Kafka into PostgreSQL (one transaction "
                + "per batch, offsets committed after the database).",
            "Configuration (default in brackets; all of it in docs/contract.md, Configuration): "
                + "METERING_KAFKA_BOOTSTRAP, METERING_SCHEMA_REGISTRY_URL and METERING_DB_URL (required), "
                + "METERING_SCHEMA_REGISTRY_AUTH, METERING_DB_USER, METERING_DB_PASSWORD, METERING_TOPIC_PREFIX "
                + "(metering.), METERING_SINK_GROUP_ID (metering-sink), METERING_SINK_BATCH_SIZE (5000), "
                + "METERING_SINK_BATCH_LINGER (50ms), METERING_SINK_RETRY_BACKOFF_MAX (30s), METERING_SINK_HEARTBEAT "
                + "(5s), METERING_SINK_METRICS_PORT (9402), METERING_SINK_MIGRATE (true), METERING_EVENT_LOG (off), "
                + "METERING_EVENT_LOG_RETENTION (35d), METERING_CONVERSATION_TTL (30d), METERING_SINK_INSTANCE_ID "
                + "(host name), METERING_SINK_SESSION_TIMEOUT (10s), METERING_STREAMS_APPLICATION_ID (metering-streams; "
                + "the streams application whose progress usage_as_of follows), METERING_STREAMS_COMMIT_INTERVAL (200ms), "
                + "METERING_MAX_STALENESS (60s; a stage behind by more is logged STALLED), METERING_KAFKA_<PROPERTY> "
                + "(any Kafka client property)."})
final class SinkCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        SinkConfig config = SinkConfig.from(ConfigSource.fromEnvironment());
        SinkApp.RunningSink sink = SinkApp.start(config);
        return ServiceRunner.runUntilStopped("metering-sink", sink, sink::isRunning);
    }
}
