package dev.metering.sink;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.sink.bench.SinkBenchmark;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The sink's share of freshness at a steady, moderate rate: for every window update written, the
 * time from its Kafka record timestamp (set by the producer at send) to the commit of the database
 * transaction that holds it (the hook between database commit and offset commit), after a 5 s
 * warm-up. Sink batch 5000; arguments: rate, seconds, linger in ms (default 50, the sink default).
 *
 * <pre>
 * flock /tmp/metering-bench.lock mvn -B -ntp -o -pl metering-sink test-compile exec:exec -Dexec.executable=java \
 *     -Dexec.classpathScope=test "-Dexec.args=-cp %classpath dev.metering.sink.SinkFreshnessProbe 5000 30"
 * </pre>
 */
public final class SinkFreshnessProbe {

    private SinkFreshnessProbe() {
    }

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        Duration linger = Duration.ofMillis(args.length > 2 ? Long.parseLong(args[2]) : 50);
        int warmUpSeconds = 5;
        int keys = 50_000;
        PostgresServer postgres = TestInfra.postgres();
        String bootstrap = TestInfra.kafka().bootstrapServers();
        Map<String, Object> client = Map.of("bootstrap.servers", bootstrap,
                "schema.registry.url", TestInfra.registry().confluentUrl());
        String run = "fresh" + System.currentTimeMillis();
        Topics topics = new Topics(run + ".");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topics.aggregates(), 4, (short) 1),
                    new NewTopic(topics.deadLetters(), 1, (short) 1))).all().get();
        }
        String db = postgres.createDatabase(run);
        Migrations.migrate(db, postgres.user(), postgres.password());
        int total = rate * seconds;
        int measured = rate * (seconds - warmUpSeconds);
        long[] latencies = new long[total + 1];
        java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
        long measureFrom = Long.MAX_VALUE - 1; // record timestamps before it are the warm-up
        java.util.concurrent.atomic.AtomicLong from = new java.util.concurrent.atomic.AtomicLong(measureFrom);
        SinkConfig config = new SinkConfig(topics, db, postgres.user(), postgres.password(), run, 5000, linger, Duration.ofSeconds(5), Duration.ofSeconds(5), -1, false, client);
        SinkApp.RunningSink sink = SinkApp.start(config, Clock.systemUTC(), new SinkLoop.Hooks() {
            @Override
            public void afterDatabaseCommit(PreparedBatch batch) {
                long now = System.currentTimeMillis();
                for (WindowUpdate u : batch.updates()) {
                    if (u.recordTimestamp() < from.get()) {
                        continue;
                    }
                    int i = count.get();
                    if (i < latencies.length) {
                        latencies[i] = now - u.recordTimestamp();
                        count.set(i + 1); // one writer (the polling thread); main only reads
                    }
                }
            }
        });
        SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(client);
        Serializer<UsageWindowKey> keySerializer = AvroSerdes.specific(UsageWindowKey.class, registry, client, true).serializer();
        Serializer<UsageWindowTotals> valueSerializer =
                AvroSerdes.specific(UsageWindowTotals.class, registry, client, false).serializer();
        Map<String, Object> properties = new HashMap<>(client);
        properties.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        LockSupport.parkNanos(3_000_000_000L); // the sink joins its group
        try (KafkaProducer<byte[], byte[]> producer =
                     new KafkaProducer<>(properties, new ByteArraySerializer(), new ByteArraySerializer())) {
            long start = System.nanoTime();
            from.set(System.currentTimeMillis() + warmUpSeconds * 1000L);
            for (int j = 0; j < total; j++) {
                long due = start + (long) j * 1_000_000_000L / rate;
                long early = due - System.nanoTime();
                if (early > 0) {
                    LockSupport.parkNanos(early);
                }
                producer.send(new ProducerRecord<>(topics.aggregates(), keySerializer.serialize(topics.aggregates(),
                        SinkBenchmark.key(j % keys)), valueSerializer.serialize(topics.aggregates(),
                        SinkBenchmark.totals(j / keys + 1))));
            }
            producer.flush();
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (count.get() < measured - rate / 10 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(50_000_000L);
        }
        sink.close();
        long[] sorted = Arrays.copyOf(latencies, count.get());
        Arrays.sort(sorted);
        System.out.printf("freshness at %,d updates/s for %d s, linger %d ms: %,d updates written after a %d s warm-up;"
                        + " record timestamp -> database commit: p50 %d ms, p99 %d ms, max %d ms%n", rate, seconds,
                linger.toMillis(), sorted.length, warmUpSeconds,
                sorted[sorted.length / 2], sorted[(int) (sorted.length * 0.99)], sorted[sorted.length - 1]);
        System.exit(0);
    }
}
