package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.api.config.KafkaSettings;
import dev.metering.app.audit.UsageAudit;
import dev.metering.app.prices.PriceBooks;
import dev.metering.avro.UsageEvent;
import dev.metering.db.Migrations;
import dev.metering.devstack.KafkaBroker;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.SchemaRegistryServer;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.TopicProvisioner;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code audit} on the real pipeline (broker, registry, streams and sink with the event log on,
 * PostgreSQL): the aggregates the pipeline wrote equal the event log's sums row by row, and a
 * tampered aggregate row is reported as exactly that difference.
 */
class AuditCommandIT {

    private static final String ORG = "audit-org";
    private static final String PRICES = "provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,"
            + "effective_from\nopenai,gpt-5,1.25,0.125,10,2025-08-07\n";
    private static final KafkaBroker KAFKA = TestInfra.kafka();
    private static final SchemaRegistryServer REGISTRY = TestInfra.registry();
    private static final PostgresServer PG = TestInfra.postgres();
    /** Two days ago, 10:00 UTC: one UTC day, inside the event log's retention, whenever the test runs. */
    private static final Instant H10 = Instant.now().truncatedTo(ChronoUnit.DAYS).minus(Duration.ofDays(2)).plus(Duration.ofHours(10));
    private static final Instant H11 = H10.plus(Duration.ofHours(1));

    private static String dbUrl;
    private static StreamsApp streams;
    private static SinkApp.RunningSink sink;

    @BeforeAll
    static void start() throws Exception {
        String id = "audit" + Long.toHexString(System.nanoTime());
        Path work = Files.createDirectories(Path.of("target", "audit-it", id));
        dbUrl = PG.createDatabase("app_audit");
        Topics topics = new Topics(id + ".");
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", REGISTRY.confluentUrl());
        env.put("METERING_TOPIC_PREFIX", topics.prefix());
        env.put("METERING_TOPIC_PARTITIONS", "2");
        env.put("METERING_DB_URL", dbUrl);
        env.put("METERING_DB_USER", PG.user());
        env.put("METERING_DB_PASSWORD", PG.password());
        env.put("METERING_EVENT_LOG", "on");
        env.put("METERING_STREAMS_APPLICATION_ID", id + "-streams");
        env.put("METERING_STREAMS_STATE_DIR", work.resolve("streams").toAbsolutePath().toString());
        env.put("METERING_STREAMS_METRICS_PORT", "-1");
        env.put("METERING_SINK_GROUP_ID", id + "-sink");
        env.put("METERING_SINK_METRICS_PORT", "-1");
        env.put("METERING_SINK_MIGRATE", "false");
        Migrations.migrate(dbUrl, PG.user(), PG.password());
        TopicProvisioner.ensureTopics(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics, 2, Optional.empty(), true);
        PriceBooks.apply(PRICES, "audit-it", dbUrl, PG.user(), PG.password(),
                KafkaSettings.of(KAFKA.bootstrapServers(), REGISTRY.confluentUrl(), topics));
        streams = StreamsApp.start(StreamsAppConfig.from(ConfigSource.of(env)));
        sink = SinkApp.start(SinkConfig.from(ConfigSource.of(env)));

        Serializer<UsageEvent> serializer = AvroSerdes.specific(UsageEvent.class, HttpSchemaRegistryClient.fromConfig(
                Map.of(HttpSchemaRegistryClient.URL_CONFIG, REGISTRY.confluentUrl())), Map.of("auto.register.schemas", true),
                false).serializer();
        UsageEvent e1 = event("e1", ORG, H10.plusSeconds(300), "u1", "AI_COMPLETION", "openai", "gpt-5", 1, 1000, 0, 100);
        List<UsageEvent> events = List.of(e1,
                event("e2", ORG, H10.plusSeconds(1200), "u1", "AI_COMPLETION", "openai", "gpt-5", 1, 2000, 400, 50),
                event("e3", ORG, H10.plusSeconds(2400), "u2", "CHAT_MESSAGE", null, null, 1, 0, 0, 0),
                event("e4", ORG, H11.plusSeconds(600), "u2", "AI_COMPLETION", "openai", "gpt-5", 1, 10, 0, 10),
                event("e5", ORG, H11.plusSeconds(1800), null, "CHAT_MESSAGE", null, null, 3, 0, 0, 0),
                e1,
                event("e6", ORG, H11.plusSeconds(3000), "u1", "AI_COMPLETION", "acme", "in-house", 1, 100, 0, 0),
                event("o1", "other-org", H10.plusSeconds(60), "u1", "AI_COMPLETION", "openai", "gpt-5", 1, 5, 0, 5));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                KAFKA.bootstrapServers(), "acks", "all", "enable.idempotence", true), new StringSerializer(),
                new ByteArraySerializer())) {
            for (UsageEvent e : events) {
                producer.send(new ProducerRecord<>(topics.events(), e.getOrgId(), serializer.serialize(topics.events(), e)))
                        .get();
            }
        }
        // counted: the 6 distinct events in the log and in every aggregate table (the duplicate once)
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            for (String table : List.of("usage_events", "usage_hourly", "usage_daily", "org_usage_hourly", "org_usage_daily")) {
                assertThat(count(table)).as(table).isEqualTo(6);
            }
        });
    }

    @AfterAll
    static void stop() {
        if (sink != null) {
            sink.close();
        }
        if (streams != null) {
            streams.close();
        }
    }

    private static UsageEvent event(String id, String org, Instant at, String user, String feature, String provider,
                                    String model, long quantity, long in, long cached, long out) {
        return UsageEvent.newBuilder().setEventId(id).setOrgId(org).setOccurredAt(at).setFeature(feature).setUserId(user)
                .setProvider(provider).setModel(model).setQuantity(quantity).setInputTokens(in).setCachedInputTokens(cached)
                .setOutputTokens(out).build();
    }

    private static long count(String table) throws Exception {
        String sum = table.equals("usage_events") ? "count(*)" : "COALESCE(SUM(events), 0)";
        try (Connection c = DriverManager.getConnection(dbUrl, PG.user(), PG.password()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + sum + " FROM metering." + table + " WHERE org_id = '" + ORG + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String[] audit(UsageAudit.Grain grain) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long differences;
        try (Connection c = DriverManager.getConnection(dbUrl, PG.user(), PG.password())) {
            differences = UsageAudit.print(UsageAudit.run(c, ORG, H10.minus(Duration.ofHours(10)), H10.plus(Duration.ofDays(1)),
                    grain), new PrintStream(out, true, StandardCharsets.UTF_8));
        }
        return new String[] {Long.toString(differences), out.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void shouldFindEveryAggregateRowEqualToTheEventLogThenReportExactlyTheTamperedRow() throws Exception {
        String[] hour = audit(UsageAudit.Grain.HOUR);
        // org grain: (AI_COMPLETION, CHAT_MESSAGE) x (10:00, 11:00); detail grain: 2 keys at 10:00, 3 at 11:00
        assertThat(hour[1]).endsWith("audit: 9 rows compared, 0 differences\n");
        assertThat(hour[0]).isEqualTo("0");
        assertThat(hour[1].lines().filter(l -> l.endsWith(" ok")).count()).isEqualTo(9);
        // e1 + e2: 2 events, 3000 input + 400 cached + 150 output tokens, 0.00225 + 0.00305 USD
        assertThat(hour[1]).containsPattern("usage_hourly +" + H10 + " +u1 AI_COMPLETION openai gpt-5 +2 +2 +3550 +0.0053 +ok");
        assertThat(hour[1]).containsPattern("org_usage_hourly +" + H11 + " +CHAT_MESSAGE +1 +3 +0 +0 +ok");
        String[] day = audit(UsageAudit.Grain.DAY);
        assertThat(day[1]).endsWith("audit: 7 rows compared, 0 differences\n");
        assertThat(day[1]).containsPattern("org_usage_daily +" + H10.truncatedTo(ChronoUnit.DAYS)
                + " +AI_COMPLETION +4 +4 +3670 +0.0054125 +ok");

        try (Connection c = DriverManager.getConnection(dbUrl, PG.user(), PG.password()); Statement st = c.createStatement()) {
            assertThat(st.executeUpdate("UPDATE metering.usage_hourly SET events = events + 1, cost_usd = cost_usd + 0.001 "
                    + "WHERE org_id = '" + ORG + "' AND user_id = 'u1' AND model = 'gpt-5'")).isEqualTo(1);
        }
        String[] tampered = audit(UsageAudit.Grain.HOUR);
        assertThat(tampered[0]).isEqualTo("1");
        assertThat(tampered[1]).endsWith("audit: 9 rows compared, 1 differences\n");
        List<String> diffs = tampered[1].lines().filter(l -> l.contains(" DIFF ")).toList();
        assertThat(diffs).hasSize(1);
        assertThat(diffs.get(0)).startsWith("usage_hourly     " + H10 + " u1 AI_COMPLETION openai gpt-5")
                .endsWith("DIFF events 3 vs log 2, cost_usd 0.0063 vs log 0.0053");
        // the day rows were not touched
        assertThat(audit(UsageAudit.Grain.DAY)[1]).endsWith("audit: 7 rows compared, 0 differences\n");

        // the log keeps each event's exact cost, so even one nano-USD off a day row is a difference
        try (Connection c = DriverManager.getConnection(dbUrl, PG.user(), PG.password()); Statement st = c.createStatement()) {
            assertThat(st.executeUpdate("UPDATE metering.org_usage_daily SET cost_usd = cost_usd + 0.000000001 "
                    + "WHERE org_id = '" + ORG + "' AND feature = 'AI_COMPLETION'")).isEqualTo(1);
        }
        assertThat(audit(UsageAudit.Grain.DAY)[1]).endsWith("audit: 7 rows compared, 1 differences\n")
                .contains("DIFF cost_usd 0.005412501 vs log 0.0054125");
    }
}
