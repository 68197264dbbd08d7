package dev.metering.api.it;

import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.io.IOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;

/**
 * The settings of an in-process streams app and sink on the shared broker and registry, on the
 * test's own topics ({@code prefix}), writing to the test's database.
 */
final class PipelineEnv {

    private PipelineEnv() {
    }

    static Map<String, String> of(String prefix, String stateDir, String jdbcUrl, boolean eventLog) throws IOException {
        PostgresServer pg = TestInfra.postgres();
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", TestInfra.kafka().bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", TestInfra.registry().confluentUrl());
        env.put("METERING_TOPIC_PREFIX", prefix);
        env.put("METERING_TOPIC_PARTITIONS", "1");
        env.put("METERING_STREAMS_APPLICATION_ID", prefix + "streams");
        env.put("METERING_STREAMS_STATE_DIR", Files.createTempDirectory(stateDir).toString());
        env.put("METERING_STREAMS_METRICS_PORT", "-1");
        env.put("METERING_SINK_METRICS_PORT", "-1");
        env.put("METERING_SINK_MIGRATE", "false");
        env.put("METERING_SINK_GROUP_ID", prefix + "sink");
        if (eventLog) {
            env.put("METERING_EVENT_LOG", "on");
        }
        env.put("METERING_DB_URL", jdbcUrl);
        env.put("METERING_DB_USER", pg.user());
        env.put("METERING_DB_PASSWORD", pg.password());
        return env;
    }
}
