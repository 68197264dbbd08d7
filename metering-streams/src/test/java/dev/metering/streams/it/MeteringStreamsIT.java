package dev.metering.streams.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.TopicProvisioner;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topology on a real KRaft broker and a real Apicurio registry: 50,000 events over 200 orgs
 * and 20 models, shuffled within the grace period, 5% duplicates, malformed records and records
 * keyed by something else than their org; the final aggregates (highest version per key, as the
 * sink keeps them) must equal a ground truth computed independently, also after a kill -9 in
 * the middle of the stream, repeated at random points, and restarts on the same state directory.
 */
class MeteringStreamsIT {

    private static final Logger LOG = LoggerFactory.getLogger(MeteringStreamsIT.class);
    private static final int EVENTS = 50_000;
    private static final int ORGS = 200;
    private static final int MODELS = 20;
    private static final int GARBAGE = 10;
    private static final int UNKNOWN_SCHEMA = 2;
    private static final Duration PATIENCE = Duration.ofMinutes(4);
    private static final int KILLS = 5;

    @TempDir
    Path stateDir;

    @Test
    void shouldMatchTheGroundTruthExactlyWithDuplicatesShuffleAndMalformedRecords() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        UsageDataset data = dataset(1);
        Map<String, String> env = env(run, stateDir);
        StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.of(env));
        try (Pipeline pipeline = pipeline(config.topics())) {
            TopicProvisioner.ensureTopics(config.kafkaProperties(), config.topics(), config.partitions(),
                    config.replicationFactor(), true);
            pipeline.sendPrices(prices(data));
            try (StreamsApp app = StreamsApp.start(config);
                    Pipeline.AggregatesReader aggregates = pipeline.aggregatesReader();
                    Pipeline.DeadLetterReader deadLetters = pipeline.deadLetterReader()) {
                assertThat(app.awaitRunning(Duration.ofMinutes(1))).isTrue();
                sendWithBadRecords(pipeline, data.sendOrder, true);

                Map<UsageWindowKey, UsageWindowTotals> truth = data.groundTruth();
                awaitAggregatesEqual(aggregates, truth);
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(deadLetters.byReason())
                        .isEqualTo(Map.of("MALFORMED", (long) GARBAGE, "UNKNOWN_SCHEMA", (long) UNKNOWN_SCHEMA)));
                // counters are observability: a transaction aborted on an overloaded machine is counted again
                assertThat(app.metrics().count("accepted")).isGreaterThanOrEqualTo(EVENTS);
                assertThat(app.metrics().count("duplicates")).isGreaterThanOrEqualTo(data.sendOrder.size() - EVENTS);
                LOG.info("{} events, {} sends, {} window rows, {} aggregate records", EVENTS, data.sendOrder.size(),
                        truth.size(), aggregates.records());
            }
            // a clean close leaves the group: a restarted instance gets the partitions at once,
            // not after the session timeout
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", config.kafkaProperties().get("bootstrap.servers")))) {
                assertThat(admin.describeConsumerGroups(List.of(config.applicationId())).all().get()
                        .get(config.applicationId()).members()).isEmpty();
            }
        }
    }

    @Test
    void shouldStillMatchTheGroundTruthAfterRepeatedKillsAtRandomPointsAndRestartsOnTheSameStateDir() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        UsageDataset data = dataset(2);
        Map<String, String> env = env(run, stateDir);
        StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.of(env));
        Random random = new Random(run.hashCode());
        int total = data.sendOrder.size();
        try (Pipeline pipeline = pipeline(config.topics())) {
            TopicProvisioner.ensureTopics(config.kafkaProperties(), config.topics(), config.partitions(),
                    config.replicationFactor(), true);
            pipeline.sendPrices(prices(data));
            // the input arrives in parts; after each part, a streams JVM runs and is killed (kill -9) at a
            // random point: while it restores, mid-batch, between an emission and a commit, or later
            int sent = 0;
            for (int kill = 1; kill <= KILLS; kill++) {
                int upTo = total * kill / (KILLS + 1);
                sendWithBadRecords(pipeline, data.sendOrder.subList(sent, upTo), sent == 0);
                sent = upTo;
                long before = pipeline.committed(config.applicationId());
                Process child = startChildJvm(env, run + "-" + kill);
                try {
                    long target = before + 1 + random.nextInt(Math.max(1, (int) (pipeline.produced() - before)));
                    await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20))
                            .until(() -> pipeline.committed(config.applicationId()) >= Math.min(target, pipeline.produced()));
                    Thread.sleep(random.nextInt(1500)); // not a wait for state: where the kill falls, at random
                } finally {
                    child.destroyForcibly();
                    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                }
                LOG.info("kill {}: killed the streams JVM with {} of {} produced records committed", kill,
                        pipeline.committed(config.applicationId()), pipeline.produced());
            }
            // the rest of the stream arrives while the application is down
            sendWithBadRecords(pipeline, data.sendOrder.subList(sent, total), false);

            // restart on the same state directory: exactly the ground truth, nothing lost, nothing twice
            try (StreamsApp app = StreamsApp.start(config);
                    Pipeline.AggregatesReader aggregates = pipeline.aggregatesReader();
                    Pipeline.DeadLetterReader deadLetters = pipeline.deadLetterReader()) {
                awaitAggregatesEqual(aggregates, data.groundTruth());
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(deadLetters.byReason())
                        .isEqualTo(Map.of("MALFORMED", (long) GARBAGE, "UNKNOWN_SCHEMA", (long) UNKNOWN_SCHEMA)));
            }
        }
    }

    private static UsageDataset dataset(long seed) {
        Instant start = Instant.now().minus(Duration.ofHours(30)).truncatedTo(ChronoUnit.HOURS);
        return new UsageDataset(seed, EVENTS, ORGS, MODELS, 0.05, start);
    }

    private static List<ModelPrice> prices(UsageDataset data) {
        return data.models.stream().map(UsageDataset.Model::price).filter(Objects::nonNull).toList();
    }

    private Pipeline pipeline(Topics topics) {
        return new Pipeline(TestInfra.kafka().bootstrapServers(), TestInfra.registry().confluentUrl(), topics);
    }

    private static Map<String, String> env(String run, Path stateDir) {
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", TestInfra.kafka().bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", TestInfra.registry().confluentUrl());
        env.put("METERING_TOPIC_PREFIX", "it-" + run + ".");
        env.put("METERING_TOPIC_PARTITIONS", "4");
        env.put("METERING_STREAMS_APPLICATION_ID", "metering-streams-it-" + run);
        env.put("METERING_STREAMS_STATE_DIR", stateDir.toString());
        env.put("METERING_STREAMS_METRICS_PORT", "0");
        // a killed member must leave the group quickly so the restarted one gets its partitions
        env.put("METERING_KAFKA_SESSION_TIMEOUT_MS", "6000");
        env.put("METERING_KAFKA_HEARTBEAT_INTERVAL_MS", "1000");
        return env;
    }

    /**
     * Sends the events keyed by org, plus garbage and unknown-schema records (in the part that
     * {@code withBadRecords}), and every 500th event without a key (a foreign producer: it must be
     * re-keyed, not lost or double counted).
     */
    private static void sendWithBadRecords(Pipeline pipeline, List<UsageEvent> events, boolean withBadRecords) {
        int garbageEvery = events.size() / GARBAGE;
        int unknownEvery = events.size() / UNKNOWN_SCHEMA;
        for (int i = 0; i < events.size(); i++) {
            UsageEvent e = events.get(i);
            if (i % 500 == 250) {
                pipeline.sendRaw(null, pipeline.encode(e));
            } else {
                pipeline.sendRaw(e.getOrgId().getBytes(UTF_8), pipeline.encode(e));
            }
            if (withBadRecords && i % garbageEvery == 7) {
                pipeline.sendRaw(e.getOrgId().getBytes(UTF_8), ("not avro " + i).getBytes(UTF_8));
            }
            if (withBadRecords && i % unknownEvery == 11) {
                byte[] unknown = pipeline.encode(e);
                ByteBuffer.wrap(unknown).putInt(1, 987_654 + i);
                pipeline.sendRaw(e.getOrgId().getBytes(UTF_8), unknown);
            }
        }
        pipeline.flush();
    }

    private static void awaitAggregatesEqual(Pipeline.AggregatesReader aggregates, Map<UsageWindowKey, UsageWindowTotals> truth) {
        await().atMost(PATIENCE).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            Map<UsageWindowKey, UsageWindowTotals> actual = aggregates.poll();
            List<String> diff = new ArrayList<>();
            for (Map.Entry<UsageWindowKey, UsageWindowTotals> e : truth.entrySet()) {
                UsageWindowTotals got = actual.get(e.getKey());
                if (!e.getValue().equals(got) && diff.size() < 5) {
                    diff.add(e.getKey() + ": expected " + e.getValue() + " but was " + got);
                }
            }
            assertThat(actual.keySet()).as("window keys").hasSameSizeAs(truth.keySet());
            assertThat(diff).as("rows differing from the ground truth (first 5)").isEmpty();
            assertThat(actual).isEqualTo(truth);
        });
    }

    private static Process startChildJvm(Map<String, String> env, String run) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Path.of("target", "it-logs", "streams-child-" + run + ".log");
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                StreamsApp.class.getName());
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        LOG.info("streams child JVM logs to {}", log.toAbsolutePath());
        return pb.start();
    }

}
