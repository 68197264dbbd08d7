package dev.metering.app;

import dev.metering.events.config.ConfigSource;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "sink", mixinStandardHelpOptions = true,
        description = {"Runs the sink: aggregates and dead letters from Kafka into PostgreSQL (one transaction "
                + "per batch, offsets committed after the database).",
            "Configuration: METERING_KAFKA_BOOTSTRAP, METERING_SCHEMA_REGISTRY_URL, METERING_DB_URL (required), "
                + "METERING_DB_USER, METERING_DB_PASSWORD, METERING_TOPIC_PREFIX, METERING_SINK_* and "
                + "METERING_KAFKA_<PROPERTY>."})
final class SinkCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        SinkConfig config = SinkConfig.from(ConfigSource.fromEnvironment());
        SinkApp.RunningSink sink = SinkApp.start(config);
        return ServiceRunner.runUntilStopped("metering-sink", sink, sink::isRunning);
    }
}
