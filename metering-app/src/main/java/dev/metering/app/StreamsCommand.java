package dev.metering.app;

import dev.metering.events.config.ConfigSource;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;

@Command(name = "streams", mixinStandardHelpOptions = true,
        description = {"Runs the Kafka Streams service (validate, dedupe, price, aggregate) against external Kafka "
                + "and schema registry.",
            "Configuration: METERING_KAFKA_BOOTSTRAP, METERING_SCHEMA_REGISTRY_URL (required), "
                + "METERING_SCHEMA_REGISTRY_AUTH, METERING_TOPIC_PREFIX, METERING_GRACE, "
                + "METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD, METERING_STREAMS_* and METERING_KAFKA_<PROPERTY>."})
final class StreamsCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        StreamsAppConfig config = StreamsAppConfig.load(ConfigSource.fromEnvironment());
        StreamsApp app = StreamsApp.start(config);
        return ServiceRunner.runUntilStopped("metering-streams", app, () -> {
            KafkaStreams.State s = app.streams().state();
            return s.isRunningOrRebalancing() || s == KafkaStreams.State.CREATED;
        });
    }
}
