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
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One sink test's world on the shared real broker, registry and PostgreSQL: its own topics
 * (unique prefix), its own database, its own consumer group.
 */
final class SinkItSupport implements AutoCloseable {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    final String name;
    final Topics topics;
    final PostgresServer postgres = TestInfra.postgres();
    final String dbUrl;
    final SchemaRegistryClient registry;
    final Map<String, Object> clientProperties;
    private final Admin admin;
    private final KafkaProducer<UsageWindowKey, UsageWindowTotals> producer;
    private final KafkaProducer<byte[], byte[]> rawProducer;

    SinkItSupport(String testName) throws ExecutionException, InterruptedException {
        name = (testName + SEQUENCE.incrementAndGet()).toLowerCase();
        topics = new Topics("it." + name + ".");
        dbUrl = postgres.createDatabase(name);
        Migrations.migrate(dbUrl, postgres.user(), postgres.password());
        clientProperties = Map.of(
                "bootstrap.servers", TestInfra.kafka().bootstrapServers(),
                "schema.registry.url", TestInfra.registry().confluentUrl());
        registry = HttpSchemaRegistryClient.fromConfig(clientProperties);
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestInfra.kafka().bootstrapServers()));
        admin.createTopics(List.of(new NewTopic(topics.aggregates(), 2, (short) 1),
                new NewTopic(topics.deadLetters(), 1, (short) 1))).all().get();
        Map<String, Object> producerProperties = new HashMap<>(clientProperties);
        producerProperties.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProperties.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        producer = new KafkaProducer<>(producerProperties,
                AvroSerdes.specific(UsageWindowKey.class, registry, clientProperties, true).serializer(),
                AvroSerdes.specific(UsageWindowTotals.class, registry, clientProperties, false).serializer());
        rawProducer = new KafkaProducer<>(producerProperties, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Heartbeat interval of the sinks these tests start (measured on the sink's clock). */
    static final Duration HEARTBEAT = Duration.ofSeconds(5);

    SinkConfig config() {
        return new SinkConfig(topics, dbUrl, postgres.user(), postgres.password(), "sink-" + name, 200,
                Duration.ofMillis(50), Duration.ofSeconds(1), HEARTBEAT, 0, false, clientProperties);
    }

    SinkApp.RunningSink startSink(Clock clock, SinkLoop.Hooks hooks) {
        return SinkApp.start(config(), clock, hooks);
    }

    SinkApp.RunningSink startSink() {
        return startSink(Clock.fixed(Instant.parse("2026-11-02T12:00:00Z"), ZoneId.of("UTC")), SinkLoop.Hooks.NONE);
    }

    void send(UsageWindowKey key, UsageWindowTotals totals) {
        producer.send(new ProducerRecord<>(topics.aggregates(), key, totals));
    }

    void sendTo(int partition, UsageWindowKey key, UsageWindowTotals totals) {
        producer.send(new ProducerRecord<>(topics.aggregates(), partition, key, totals));
    }

    void sendRaw(ProducerRecord<byte[], byte[]> record) {
        rawProducer.send(record);
    }

    void flush() {
        producer.flush();
        rawProducer.flush();
    }

    /** Whether the sink's group committed every record produced so far, on every topic. */
    boolean everythingCommitted() throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int p = 0; p < 2; p++) {
            request.put(new TopicPartition(topics.aggregates(), p), OffsetSpec.latest());
        }
        request.put(new TopicPartition(topics.deadLetters(), 0), OffsetSpec.latest());
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(request).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
        Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(config().groupId()).partitionsToOffsetAndMetadata().get();
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            OffsetAndMetadata c = committed.get(end.getKey());
            long position = c == null ? 0 : c.offset();
            if (position < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** The committed offsets of the sink's group (empty if it never committed). */
    Map<TopicPartition, OffsetAndMetadata> committedOffsets() throws ExecutionException, InterruptedException {
        return admin.listConsumerGroupOffsets(config().groupId()).partitionsToOffsetAndMetadata().get();
    }

    /** Every row of the query, columns joined by '|'. */
    List<String> rows(String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = postgres.connect(name); Statement s = c.createStatement()) {
            s.execute("SET TIME ZONE 'UTC'");
            ResultSet rs = s.executeQuery(sql);
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> values = new ArrayList<>();
                for (int i = 1; i <= columns; i++) {
                    values.add(rs.getString(i));
                }
                rows.add(String.join("|", values));
            }
        }
        return rows;
    }

    /** All four usage tables, every column, in key order. */
    List<String> usageSnapshot() throws SQLException {
        List<String> rows = new ArrayList<>();
        for (String table : List.of("usage_hourly", "usage_daily")) {
            rows.addAll(rows("SELECT '" + table + "', org_id, user_id, feature, provider, model, window_start, events,"
                    + " quantity, input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd,"
                    + " first_event_at, last_event_at, updated_at, version, cache_write_tokens, reasoning_tokens FROM metering."
                    + table + " ORDER BY org_id, window_start, user_id, feature, provider, model"));
        }
        for (String table : List.of("org_usage_hourly", "org_usage_daily")) {
            rows.addAll(rows("SELECT '" + table + "', org_id, feature, window_start, events, quantity, input_tokens,"
                    + " output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at,"
                    + " updated_at, version, cache_write_tokens, reasoning_tokens FROM metering." + table
                    + " ORDER BY org_id, feature, window_start"));
        }
        return rows;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
        rawProducer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(5));
    }
}
