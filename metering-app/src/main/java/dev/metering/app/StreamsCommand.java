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
            "Configuration (default in brackets; all of it in docs/contract.md, Configuration): "
                + "METERING_KAFKA_BOOTSTRAP and METERING_SCHEMA_REGISTRY_URL (required), METERING_SCHEMA_REGISTRY_AUTH, "
                + "METERING_TOPIC_PREFIX (metering.), METERING_GRACE (48h), METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD "
                + "(none), METERING_TOPIC_PARTITIONS (12), METERING_TOPIC_REPLICATION_FACTOR (broker default), "
                + "METERING_STREAMS_APPLICATION_ID (metering-streams), METERING_STREAMS_STATE_DIR "
                + "(metering-streams-state in the working directory; use a persistent volume), METERING_STREAMS_THREADS (the processors, at most 8), "
                + "METERING_STREAMS_PROCESSING_GUARANTEE (exactly_once_v2), METERING_STREAMS_COMMIT_INTERVAL (200ms), "
                + "METERING_CONVERSATION_TTL (30d), METERING_EVENT_LOG (off), "
                + "METERING_STREAMS_METRICS_PORT (9464), METERING_STREAMS_CREATE_TOPICS (true), "
                + "METERING_STREAMS_INSTANCE_ID (host name and state dir), METERING_STREAMS_SESSION_TIMEOUT (10s), "
                + "METERING_KAFKA_<PROPERTY> (any Kafka client property)."})
final class StreamsCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.fromEnvironment());
        StreamsApp app = StreamsApp.start(config);
        return ServiceRunner.runUntilStopped("metering-streams", app, () -> {
            KafkaStreams.State s = app.streams().state();
            return s.isRunningOrRebalancing() || s == KafkaStreams.State.CREATED;
        });
    }
}
