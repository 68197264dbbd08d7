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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Scale-out as users run it: two {@code metering.jar streams} and two {@code metering.jar sink}
 * processes share six partitions under steady traffic with re-sent duplicates; one of each is
 * killed with SIGKILL mid-stream and never restarted. The survivors must take every partition over
 * (each consumer group ends with the survivor alone, owning all partitions), and the totals in
 * PostgreSQL, which only a complete takeover can make whole, must equal the ground truth exactly.
 * Prints how long each takeover took (not asserted).
 */
class ScaleOutIT {

    private static final KafkaBroker KAFKA = TestInfra.kafka();
    private static final SchemaRegistryServer REGISTRY = TestInfra.registry();
    private static final PostgresServer PG = TestInfra.postgres();
    private static final int PARTITIONS = 6;
    private static final List<String> ORGS = IntStream.range(0, 24).mapToObj(i -> "org-" + i).toList();
    /** Events each streams instance handles before the kill, so the kill lands mid-stream on owned work. */
    private static final int WORK_BEFORE_KILL = 300;

    @AfterAll
    static void tearDown() {
        ServiceProcess.killAll();
    }

    @Test
    void shouldCountExactlyWhenOneOfTwoStreamsAndOneOfTwoSinksAreKilled() throws Exception {
        long started = System.nanoTime();
        String id = "scaleout" + Long.toHexString(System.nanoTime());
        Path work = Files.createDirectories(Path.of("target", "it", id)).toAbsolutePath();
        Topics topics = new Topics(id + ".");
        UsageTables db = new UsageTables(PG.createDatabase(id), PG.user(), PG.password());
        String streamsGroup = id + "-streams";
        String sinkGroup = id + "-sink";
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", REGISTRY.confluentUrl());
        env.put("METERING_TOPIC_PREFIX", topics.prefix());
        env.put("METERING_TOPIC_PARTITIONS", Integer.toString(PARTITIONS));
        env.put("METERING_DB_URL", db.url());
        env.put("METERING_DB_USER", PG.user());
        env.put("METERING_DB_PASSWORD", PG.password());
        env.put("METERING_STREAMS_APPLICATION_ID", streamsGroup);
        env.put("METERING_SINK_GROUP_ID", sinkGroup);
        env.put("METERING_SINK_METRICS_PORT", "-1");
        env.put("METERING_SINK_MIGRATE", "false");

        ServiceProcess.run("migrate", "migrate", env, work);
        TopicProvisioner.ensureTopics(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics, PARTITIONS,
                Optional.empty(), true);
        Set<TopicPartition> events = partitions(topics.events());
        Set<TopicPartition> aggregates = partitions(topics.aggregates());

        int portA = ServiceProcess.freePort();
        int portB = ServiceProcess.freePort();
        ServiceProcess streamsA = startStreams("streams-a", env, portA, work);
        ServiceProcess streamsB = startStreams("streams-b", env, portB, work);
        ServiceProcess sinkA = startSink("sink-a", env, work);
        ServiceProcess sinkB = startSink("sink-b", env, work);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA.bootstrapServers()));
             SteadyTraffic traffic = new SteadyTraffic(KAFKA.bootstrapServers(), REGISTRY.confluentUrl(), topics.events(),
                     ORGS, 200, 23).start()) {
            // 1. both instances of each service own a share of the partitions and work on it
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250)).until(() -> {
                Map<String, Set<TopicPartition>> s = owners(admin, streamsGroup, topics.events());
                Map<String, Set<TopicPartition>> k = owners(admin, sinkGroup, topics.aggregates());
                return s != null && k != null && s.keySet().equals(Set.of("streams-a", "streams-b"))
                        && s.values().stream().noneMatch(Set::isEmpty) && union(s).equals(events)
                        && k.keySet().equals(Set.of("sink-a", "sink-b")) && k.values().stream().noneMatch(Set::isEmpty)
                        && union(k).equals(aggregates)
                        && accepted(streamsA, portA) >= WORK_BEFORE_KILL && accepted(streamsB, portB) >= WORK_BEFORE_KILL;
            });
            Map<String, Set<TopicPartition>> sinkShares = owners(admin, sinkGroup, topics.aggregates());

            // 2. one of each dies mid-stream and stays dead
            streamsB.kill();
            sinkB.kill();
            long killed = System.nanoTime();
            java.time.Instant killedAt = java.time.Instant.now();
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> {
                streamsA.requireAlive();
                Map<String, Set<TopicPartition>> s = owners(admin, streamsGroup, topics.events());
                return s != null && s.keySet().equals(Set.of("streams-a")) && s.get("streams-a").equals(events);
            });
            Duration streamsTakeover = Duration.ofNanos(System.nanoTime() - killed);
            Set<Integer> deadShare = sinkShares.get("sink-b").stream().map(TopicPartition::partition).collect(Collectors.toSet());
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> {
                sinkA.requireAlive();
                // read before the owners: while the dead sink's partitions have no owner, none of them may
                // claim usage written after the kill (billing-api's usageAsOf is their minimum)
                Map<Integer, java.time.Instant> asOf = db.usageAsOfPerPartition(topics.aggregates());
                Map<String, Set<TopicPartition>> k = owners(admin, sinkGroup, topics.aggregates());
                boolean takenOver = k != null && k.keySet().equals(Set.of("sink-a")) && k.get("sink-a").equals(aggregates);
                if (!takenOver) {
                    for (Integer p : deadShare) {
                        java.time.Instant t = asOf.get(p);
                        assertThat(t == null || !t.isAfter(killedAt)).as("usage_as_of %s of unowned partition %d", t, p)
                                .isTrue();
                    }
                }
                return takenOver;
            });
            Duration sinkTakeover = Duration.ofNanos(System.nanoTime() - killed);

            // 3. the survivor sink writes the partitions the dead one owned
            Map<Integer, Long> atTakeover = db.sinkOffsetsPerPartition(topics.aggregates());
            Set<Integer> orphaned = sinkShares.get("sink-b").stream().map(TopicPartition::partition)
                    .collect(Collectors.toCollection(TreeSet::new));

            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> {
                Map<Integer, Long> now = db.sinkOffsetsPerPartition(topics.aggregates());
                return orphaned.stream().anyMatch(p -> now.getOrDefault(p, 0L) > atTakeover.getOrDefault(p, 0L));
            });
            Duration sinkFirstOrphanWrite = Duration.ofNanos(System.nanoTime() - killed);
            traffic.close();

            Map<String, SteadyTraffic.Totals> truth = traffic.truth();
            for (String table : List.of("usage_hourly", "usage_daily", "org_usage_hourly", "org_usage_daily")) {
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> assertThat(db.totalsPerOrg(table)).as(table).isEqualTo(truth));
            }
            assertThat(db.deadLetters()).isZero();
            // and the survivors bring every partition's usage_as_of past the kill again
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                    assertThat(db.usageAsOfPerPartition(topics.aggregates()).values())
                            .hasSize(PARTITIONS).allSatisfy(t -> assertThat(t).isAfter(killedAt)));
            assertThat(streamsA.isAlive() && sinkA.isAlive()).isTrue();
            System.out.printf("SCALE-OUT events sent %d (+%d re-sent duplicates) over %d partitions; after SIGKILL of one of two: "
                            + "streams group owned wholly by the survivor after %.1f s, sink group after %.1f s, first write of "
                            + "an orphaned aggregates partition after %.1f s; test ran %d s; logs in %s%n",
                    traffic.sent(), traffic.duplicates(), PARTITIONS, streamsTakeover.toMillis() / 1000.0,
                    sinkTakeover.toMillis() / 1000.0, sinkFirstOrphanWrite.toMillis() / 1000.0,
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), work);
        } finally {
            streamsA.stop();
            sinkA.stop();
        }
    }

    private static ServiceProcess startStreams(String name, Map<String, String> env, int metricsPort, Path work) {
        Map<String, String> e = new HashMap<>(env);
        e.put("METERING_STREAMS_INSTANCE_ID", name);
        e.put("METERING_STREAMS_STATE_DIR", work.resolve(name + "-state").toString());
        e.put("METERING_STREAMS_METRICS_PORT", Integer.toString(metricsPort));
        return ServiceProcess.start(name, "streams", e, work);
    }

    private static ServiceProcess startSink(String name, Map<String, String> env, Path work) {
        Map<String, String> e = new HashMap<>(env);
        e.put("METERING_SINK_INSTANCE_ID", name);
        return ServiceProcess.start(name, "sink", e, work);
    }

    private static double accepted(ServiceProcess streams, int port) {
        return streams.metric(port, "metering_streams_accepted_total");
    }

    private static Set<TopicPartition> partitions(String topic) {
        return IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(topic, p)).collect(Collectors.toSet());
    }

    private static Set<TopicPartition> union(Map<String, Set<TopicPartition>> owners) {
        return owners.values().stream().flatMap(Set::stream).collect(Collectors.toSet());
    }

    /**
     * The partitions of {@code topic} per process (the member's group.instance.id without the
     * {@code -<thread>} Kafka Streams adds), or null while the group is not stable.
     */
    private static Map<String, Set<TopicPartition>> owners(Admin admin, String group, String topic) throws Exception {
        ConsumerGroupDescription d;
        try {
            d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return null; // no member has joined yet
            }
            throw e;
        }
        if (d.groupState() != GroupState.STABLE) {
            return null;
        }
        Map<String, Set<TopicPartition>> out = new TreeMap<>();
        for (MemberDescription m : d.members()) {
            out.computeIfAbsent(m.groupInstanceId().orElse(m.consumerId()).replaceFirst("-\\d+$", ""), k -> new HashSet<>())
                    .addAll(m.assignment().topicPartitions().stream().filter(tp -> tp.topic().equals(topic)).toList());
        }
        return out;
    }
}
