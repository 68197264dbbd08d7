package dev.metering.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.devstack.KafkaBroker;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.SchemaRegistryServer;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.streams.TopicProvisioner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * How fast a SIGKILLed service takes its work back when it is restarted, measured on separate
 * processes as production runs them ({@code metering.jar migrate}, {@code streams}, {@code sink})
 * under steady traffic with re-sent duplicates: streams is killed and restarted twice, then the
 * sink. Printed (not asserted): restart to the first event the new streams process counts, and
 * restart to the first batch the new sink writes. Asserted: afterwards every table holds exactly
 * the ground truth. The children's logs (with the Kafka clients' group, transaction and
 * restoration lines) are under {@code target/it/recovery-*}.
 */
class RecoveryTimeIT {

    private static final KafkaBroker KAFKA = TestInfra.kafka();
    private static final SchemaRegistryServer REGISTRY = TestInfra.registry();
    private static final PostgresServer PG = TestInfra.postgres();
    private static final List<String> ORGS = List.of("org-a", "org-b", "org-c", "org-d", "org-e", "org-f");
    private static final int KILLS = 2;
    /** Events a restarted instance handles before it is killed again. */
    private static final int WORK_BETWEEN_KILLS = 200;

    @AfterAll
    static void tearDown() {
        ServiceProcess.killAll();
    }

    @Test
    void shouldCountEveryEventExactlyOnceWhenStreamsAndSinkAreKilledAndRestarted() throws Exception {
        String id = "recovery" + Long.toHexString(System.nanoTime());
        Path work = Files.createDirectories(Path.of("target", "it", id)).toAbsolutePath();
        Topics topics = new Topics(id + ".");
        UsageTables db = new UsageTables(PG.createDatabase(id), PG.user(), PG.password());
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", REGISTRY.confluentUrl());
        env.put("METERING_TOPIC_PREFIX", topics.prefix());
        env.put("METERING_TOPIC_PARTITIONS", "4");
        env.put("METERING_DB_URL", db.url());
        env.put("METERING_DB_USER", PG.user());
        env.put("METERING_DB_PASSWORD", PG.password());
        env.put("METERING_STREAMS_APPLICATION_ID", id + "-streams");
        // one instance, so its state directory is kept across restarts as a volume would be
        env.put("METERING_STREAMS_STATE_DIR", work.resolve("streams-state").toString());
        env.put("METERING_SINK_GROUP_ID", id + "-sink");
        env.put("METERING_SINK_METRICS_PORT", "-1");
        env.put("METERING_SINK_MIGRATE", "false");

        ServiceProcess.run("migrate", "migrate", env, work);
        TopicProvisioner.ensureTopics(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics, 4, Optional.empty(), true);
        String aggregates = topics.aggregates();

        int[] streamsPort = {ServiceProcess.freePort()};
        ServiceProcess streams = startStreams(env, streamsPort[0], work, 0);
        ServiceProcess sink = ServiceProcess.start("sink-0", "sink", env, work);
        List<Duration> streamsRecovery = new ArrayList<>();
        List<Duration> sinkRecovery = new ArrayList<>();
        try (SteadyTraffic traffic = new SteadyTraffic(KAFKA.bootstrapServers(), REGISTRY.confluentUrl(), topics.events(),
                ORGS, 200, 11).start()) {
            ServiceProcess first = streams;
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                    .until(() -> accepted(first, streamsPort[0]) >= WORK_BETWEEN_KILLS && db.sinkOffsets(aggregates) > 0);

            for (int i = 1; i <= KILLS; i++) {
                streams.kill();
                streamsPort[0] = ServiceProcess.freePort();
                long restarted = System.nanoTime();
                ServiceProcess current = startStreams(env, streamsPort[0], work, i);
                streams = current;
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(50))
                        .until(() -> accepted(current, streamsPort[0]) > 0);
                streamsRecovery.add(Duration.ofNanos(System.nanoTime() - restarted));
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                        .until(() -> accepted(current, streamsPort[0]) >= WORK_BETWEEN_KILLS);
            }
            for (int i = 1; i <= KILLS; i++) {
                sink.kill();
                long written = db.sinkOffsets(aggregates);
                long restarted = System.nanoTime();
                ServiceProcess current = ServiceProcess.start("sink-" + i, "sink", env, work);
                sink = current;
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(50))
                        .until(() -> {
                            current.requireAlive();
                            return db.sinkOffsets(aggregates) > written;
                        });
                sinkRecovery.add(Duration.ofNanos(System.nanoTime() - restarted));
                long after = db.sinkOffsets(aggregates);
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                        .until(() -> db.sinkOffsets(aggregates) > after);
            }
            traffic.close();

            Map<String, SteadyTraffic.Totals> truth = traffic.truth();
            for (String table : List.of("usage_hourly", "usage_daily", "org_usage_hourly", "org_usage_daily")) {
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> assertThat(db.totalsPerOrg(table)).as(table).isEqualTo(truth));
            }
            assertThat(db.deadLetters()).isZero();
            System.out.printf("RECOVERY events sent %d (+%d re-sent duplicates); restart -> first event counted by streams: %s;"
                    + " restart -> first batch written by the sink: %s; logs in %s%n", traffic.sent(), traffic.duplicates(),
                    seconds(streamsRecovery), seconds(sinkRecovery), work);
        } finally {
            streams.stop();
            sink.stop();
        }
    }

    private static ServiceProcess startStreams(Map<String, String> env, int metricsPort, Path work, int generation) {
        Map<String, String> e = new HashMap<>(env);
        e.put("METERING_STREAMS_METRICS_PORT", Integer.toString(metricsPort));
        return ServiceProcess.start("streams-" + generation, "streams", e, work);
    }

    private static double accepted(ServiceProcess streams, int port) {
        return streams.metric(port, "metering_streams_accepted_total");
    }

    private static String seconds(List<Duration> times) {
        return times.stream().map(d -> String.format("%.1f s", d.toMillis() / 1000.0)).toList().toString();
    }
}
