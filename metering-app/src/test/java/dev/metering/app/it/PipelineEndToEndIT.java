package dev.metering.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.audit.Actor;
import dev.metering.api.BillingApi;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.ingest.EventJson;
import dev.metering.api.config.KafkaSettings;
import dev.metering.api.plan.CatalogParser;
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
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.TopicProvisioner;
import java.io.File;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline on the real broker, registry and PostgreSQL: a generator with an
 * independently computed ground truth (duplicates, out-of-order within grace, late beyond grace,
 * undecodable bytes, invalid events, an unknown model). The streams service and the sink first
 * run as their own processes ({@code main} with {@code METERING_*} variables, the production
 * way) and are killed with SIGKILL in the middle of the traffic, then run again in this JVM
 * ({@code StreamsApp.start}, {@code SinkApp.start}) with the billing API. At the end the
 * {@code usage_hourly} and {@code usage_daily} tables, the report endpoint and the check endpoint agree exactly with
 * the ground truth, and every refused record is in {@code dead_letters} with its reason. While the
 * services are down, the accepted events go through the API's HTTP ingest instead of Kafka.
 */
class PipelineEndToEndIT {

    private static final String TOKEN = "e2e-admin-token-0123456789";
    private static final List<String> ORGS = List.of("org-a", "org-b", "org-c", "org-d", "org-e", "org-f", "org-g", "org-h");
    private static final String PRICES = """
            provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from,cache_write_per_1m_usd,above_input_tokens,service_tiers
            openai,gpt-5-mini,0.25,0.025,2.00,2025-08-07,,,flex=0.5
            openai,gpt-5-mini,0.50,0.05,4.00,2025-08-07,,3000,
            anthropic,claude-haiku-4-5,1.00,0.10,5.00,2025-10-15,1.25,,batch=0.5
            """;
    private static final String CATALOG = """
            defaultPlan: team
            plans:
              - id: team
                name: Team
                limits:
                  - { id: week-messages, feature: CHAT_MESSAGE, meter: quantity, window: "rolling:7d", max: 1000000 }
                  - { id: week-events, meter: events, window: "rolling:7d", max: 1000000 }
                  - { id: week-cost, meter: cost_usd, window: "rolling:7d", max: "100000" }
                  - { id: week-tokens, meter: tokens, window: "rolling:7d", max: 1000000000000 }
            """;

    private static final KafkaBroker KAFKA = TestInfra.kafka();
    private static final SchemaRegistryServer REGISTRY = TestInfra.registry();
    private static final PostgresServer PG = TestInfra.postgres();

    private static Map<String, String> env;
    private static String dbUrl;
    private static Topics topics;
    private static Path work;
    private static BillingApi api;
    private static StreamsApp streams;
    private static SinkApp.RunningSink sink;
    private static final List<Process> children = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        String id = "e2e" + Long.toHexString(System.nanoTime());
        work = Files.createDirectories(Path.of("target", "e2e", id));
        dbUrl = PG.createDatabase("e2e_pipeline");
        topics = new Topics(id + ".");
        env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", KAFKA.bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", REGISTRY.confluentUrl());
        env.put("METERING_TOPIC_PREFIX", topics.prefix());
        env.put("METERING_TOPIC_PARTITIONS", "4");
        env.put("METERING_DB_URL", dbUrl);
        env.put("METERING_DB_USER", PG.user());
        env.put("METERING_DB_PASSWORD", PG.password());
        env.put("METERING_GRACE", "2h");
        env.put("METERING_STREAMS_APPLICATION_ID", id + "-streams");
        env.put("METERING_STREAMS_STATE_DIR", work.resolve("streams-1").toAbsolutePath().toString());
        env.put("METERING_STREAMS_METRICS_PORT", "-1");
        env.put("METERING_SINK_GROUP_ID", id + "-sink");
        env.put("METERING_SINK_METRICS_PORT", "-1");
        env.put("METERING_SINK_MIGRATE", "false");
        env.put("METERING_KAFKA_SESSION_TIMEOUT_MS", "6000");
        env.put("METERING_API_PORT", "0");
        env.put("METERING_ADMIN_TOKEN", TOKEN);
        env.put("METERING_STALE_POLICY", "fail-open");
        env.put("METERING_MAX_STALENESS", "1d");

        Migrations.migrate(dbUrl, PG.user(), PG.password());
        Map<String, Object> kafka = Map.of("bootstrap.servers", KAFKA.bootstrapServers());
        TopicProvisioner.ensureTopics(kafka, topics, 4, Optional.empty(), true);
        PriceBooks.apply(PRICES, "e2e", dbUrl, PG.user(), PG.password(),
                KafkaSettings.of(KAFKA.bootstrapServers(), REGISTRY.confluentUrl(), topics));
        // HTTP ingest judges lateness by the wall clock (a live stream's time); this test's traffic
        // lies 2-6 h in the past while its stream time stays at base + 4 h, so the API gets the
        // grace that covers it and the streams app alone decides what is LATE here
        Map<String, String> apiEnv = new HashMap<>(env);
        apiEnv.put("METERING_GRACE", "8h");
        api = BillingApi.start(BillingApiConfig.from(ConfigSource.of(apiEnv)), Clock.systemUTC());
        api.service().putCatalog(CATALOG, CatalogParser.Format.YAML, Actor.tool("e2e", Instant.now()));
    }

    @AfterAll
    static void tearDown() {
        children.forEach(Process::destroyForcibly);
        if (sink != null) {
            sink.close();
        }
        if (streams != null) {
            streams.close();
        }
        if (api != null) {
            api.close();
        }
    }

    @Test
    void shouldAgreeExactlyWithTheGroundTruthAfterServicesAreKilledMidway() throws Exception {
        Instant base = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(6, ChronoUnit.HOURS);
        GroundTruth truth = new GroundTruth();
        Traffic traffic = new Traffic(base, new Random(7));
        List<Traffic.Planned> plan = traffic.plan(2400);

        try (KafkaProducer<String, byte[]> producer = producer()) {
            Serializer<UsageEvent> serializer = AvroSerdes.specific(UsageEvent.class, registry(),
                    Map.of("auto.register.schemas", true), false).serializer();
            Map<String, Set<String>> refused = new TreeMap<>();

            // 1. the services as their own processes; first third of the traffic
            children.add(child("dev.metering.streams.StreamsApp", "streams-1"));
            children.add(child("dev.metering.sink.SinkApp", "sink-1"));
            int third = plan.size() / 3;
            send(producer, serializer, plan.subList(0, third), truth, refused);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> eventsInDb("usage_hourly") > 0);

            // 2. second third while the services run, then SIGKILL both mid-stream
            send(producer, serializer, plan.subList(third, 2 * third), truth, refused);
            children.forEach(Process::destroyForcibly);
            for (Process p : children) {
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }

            // 3. the rest while they are down, the accepted events through the API's HTTP ingest; then
            //    start them again in this JVM, streams on an empty state directory (its state is
            //    restored from the changelogs)
            List<Traffic.Planned> rest = plan.subList(2 * third, plan.size());
            ingestOverHttp(rest.stream().filter(p -> p.kind() == Traffic.Kind.ACCEPTED).toList(), truth);
            send(producer, serializer, rest.stream().filter(p -> p.kind() != Traffic.Kind.ACCEPTED).toList(), truth, refused);
            Map<String, String> restart = new HashMap<>(env);
            restart.put("METERING_STREAMS_STATE_DIR", work.resolve("streams-2").toAbsolutePath().toString());
            streams = StreamsApp.start(StreamsAppConfig.from(ConfigSource.of(restart)));
            sink = SinkApp.start(SinkConfig.from(ConfigSource.of(restart)));
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .untilAsserted(() -> assertThat(rows("usage_hourly")).isEqualTo(truth.hourly()));

            // 4. late beyond grace, sent once every org's stream time is past base + 3 h
            send(producer, serializer, traffic.late(), truth, refused);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                    .untilAsserted(() -> assertThat(deadLetters()).isEqualTo(refused));

            assertThat(rows("usage_hourly")).isEqualTo(truth.hourly());
            assertThat(rows("usage_daily")).isEqualTo(truth.daily());
            assertThat(refused.keySet()).containsExactlyInAnyOrder("INVALID", "LATE", "MALFORMED");
            assertThat(lateEventsInDb()).isEqualTo(refused.get("LATE").size());
            for (String org : ORGS) {
                assertThat(check(org)).as("check %s", org).isEqualTo(truth.check(org));
                assertThat(report(org, base)).as("report %s", org).isEqualTo(truth.report(org));
            }
        }
    }

    // ---------------------------------------------------------------- traffic and ground truth

    /** What the generator sends, in order; duplicates are the very same event again. */
    static final class Traffic {
        enum Kind { ACCEPTED, DUPLICATE, MALFORMED, INVALID, LATE }

        record Planned(Kind kind, UsageEvent event, byte[] raw, String key) {
        }

        private static final String[][] MODELS = {{"openai", "gpt-5-mini"}, {"anthropic", "claude-haiku-4-5"},
            {"acme", "in-house-llm"}};
        private final Instant base;
        private final Random random;

        Traffic(Instant base, Random random) {
            this.base = base;
            this.random = random;
        }

        /** Events spread over 4 hours in ascending time, each swapped with a neighbour up to 10 minutes apart. */
        List<Planned> plan(int count) {
            List<Planned> out = new ArrayList<>();
            long span = Duration.ofHours(4).toMillis();
            UsageEvent previous = null;
            for (int i = 0; i < count; i++) {
                long offset = span * i / count + random.nextInt(600_000) - 300_000;
                Instant at = base.plusMillis(Math.max(0, offset));
                UsageEvent e = event(ORGS.get(random.nextInt(ORGS.size())), at);
                out.add(new Planned(Kind.ACCEPTED, e, null, e.getOrgId()));
                if (previous != null && random.nextInt(100) < 5) {
                    out.add(new Planned(Kind.DUPLICATE, previous, null, previous.getOrgId()));
                }
                if (i % 200 == 50) {
                    out.add(new Planned(Kind.MALFORMED, null, ("garbage-" + i).getBytes(StandardCharsets.UTF_8),
                            e.getOrgId()));
                }
                if (i % 200 == 150) {
                    UsageEvent bad = event(e.getOrgId(), at);
                    bad.setFeature("not a feature");
                    bad.setInputTokens(-5L);
                    out.add(new Planned(Kind.INVALID, bad, null, bad.getOrgId()));
                }
                previous = e;
            }
            return out;
        }

        /** Two events per org three hours before the traffic: beyond the 2 h grace. */
        List<Planned> late() {
            List<Planned> out = new ArrayList<>();
            for (String org : ORGS) {
                for (int i = 0; i < 2; i++) {
                    UsageEvent e = event(org, base.minus(3, ChronoUnit.HOURS).plusSeconds(60L * i));
                    out.add(new Planned(Kind.LATE, e, null, org));
                }
            }
            return out;
        }

        private UsageEvent event(String org, Instant at) {
            UsageEvent.Builder b = UsageEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setOrgId(org)
                    .setOccurredAt(at).setUserId("user-" + random.nextInt(5)).setSource("e2e")
                    .setConversationId("conv-" + random.nextInt(50)).setAttributes(new HashMap<>());
            int roll = random.nextInt(100);
            if (roll < 80) {
                String[] m = MODELS[random.nextInt(100) < 10 ? 2 : random.nextInt(2)];
                int output = 20 + random.nextInt(900);
                boolean anthropic = m[0].equals("anthropic");
                // price book v2: cache writes (Anthropic), reasoning within the output, batch/flex and unknown tiers
                b.setFeature(roll < 60 ? "CHAT_MESSAGE" : "AI_COMPLETION").setProvider(m[0]).setModel(m[1])
                        .setQuantity(1).setInputTokens(100 + random.nextInt(3000)).setOutputTokens(output)
                        .setCachedInputTokens(random.nextInt(3) == 0 ? random.nextInt(500) : 0)
                        .setCacheWriteTokens(anthropic && random.nextInt(3) == 0 ? random.nextInt(2000) : 0)
                        .setReasoningTokens(random.nextInt(2) == 0 ? random.nextInt(output + 1) : 0)
                        .setServiceTier(random.nextInt(5) == 0 ? (anthropic ? "batch" : "flex")
                                : random.nextInt(10) == 0 ? "default" : null);
            } else {
                b.setFeature("FILE_UPLOAD").setQuantity(1 + random.nextInt(3)).setInputTokens(0).setOutputTokens(0)
                        .setCachedInputTokens(0).setProvider(null).setModel(null);
            }
            return b.build();
        }
    }

    /** Independently computed expected totals, per window row (window cost rounded once, as stored). */
    static final class GroundTruth {
        /** input, cached input, cache write (none: the input price), output. */
        private static final Map<String, BigDecimal[]> PRICE = Map.of(
                "openai/gpt-5-mini", new BigDecimal[] {new BigDecimal("0.25"), new BigDecimal("0.025"), new BigDecimal("0.25"),
                        new BigDecimal("2.00")},
                "anthropic/claude-haiku-4-5", new BigDecimal[] {BigDecimal.ONE, new BigDecimal("0.10"), new BigDecimal("1.25"),
                        new BigDecimal("5.00")});
        /** gpt-5-mini for a prompt (input + cached + cache write) above 3000 tokens. */
        private static final BigDecimal[] GPT5_MINI_ABOVE_3000 = {new BigDecimal("0.50"), new BigDecimal("0.05"),
                new BigDecimal("0.50"), new BigDecimal("4.00")};
        /** Every price here is an even number of nano-USD, so 0.5 x the cost is exact (no femto rounding). */
        private static final Map<String, BigDecimal> MULTIPLIER = Map.of("openai/gpt-5-mini/flex", new BigDecimal("0.5"),
                "anthropic/claude-haiku-4-5/batch", new BigDecimal("0.5"));
        private final Map<String, Row> hourly = new TreeMap<>();
        private final Map<String, long[]> perOrg = new TreeMap<>();
        /** Exact cost per org-grain hour row: org|feature|hour. */
        private final Map<String, BigDecimal> orgHourCost = new TreeMap<>();

        void accept(UsageEvent e) {
            String dims = e.getOrgId() + "|" + e.getUserId() + "|" + e.getFeature() + "|"
                    + (e.getProvider() == null ? "" : e.getProvider()) + "|" + (e.getModel() == null ? "" : e.getModel());
            BigDecimal cost = BigDecimal.ZERO;
            long unpriced = 0;
            if (e.getModel() != null) {
                BigDecimal[] p = PRICE.get(e.getProvider() + "/" + e.getModel());
                if (p == null) {
                    unpriced = 1;
                } else {
                    String key = e.getProvider() + "/" + e.getModel();
                    long prompt = e.getInputTokens() + e.getCachedInputTokens() + e.getCacheWriteTokens();
                    if (key.equals("openai/gpt-5-mini") && prompt > 3000) {
                        p = GPT5_MINI_ABOVE_3000;
                    }
                    cost = p[0].multiply(BigDecimal.valueOf(e.getInputTokens()))
                            .add(p[1].multiply(BigDecimal.valueOf(e.getCachedInputTokens())))
                            .add(p[2].multiply(BigDecimal.valueOf(e.getCacheWriteTokens())))
                            .add(p[3].multiply(BigDecimal.valueOf(e.getOutputTokens())))
                            .divide(BigDecimal.valueOf(1_000_000));
                    BigDecimal m = MULTIPLIER.get(key + "/" + e.getServiceTier());
                    if (m != null) {
                        cost = cost.multiply(m);
                    }
                }
            }
            Instant at = e.getOccurredAt();
            add(hourly, dims + "|" + at.truncatedTo(ChronoUnit.HOURS), e, unpriced, cost);
            long[] o = perOrg.computeIfAbsent(e.getOrgId(), k -> new long[3]);
            o[0]++;
            o[2] += e.getInputTokens() + e.getCachedInputTokens() + e.getCacheWriteTokens() + e.getOutputTokens();
            if ("CHAT_MESSAGE".equals(e.getFeature())) {
                o[1] += e.getQuantity();
            }
            orgHourCost.merge(e.getOrgId() + "|" + e.getFeature() + "|" + at.truncatedTo(ChronoUnit.HOURS), cost,
                    BigDecimal::add);
        }

        private static void add(Map<String, Row> rows, String key, UsageEvent e, long unpriced, BigDecimal cost) {
            Row r = rows.getOrDefault(key, Row.ZERO);
            rows.put(key, new Row(r.events() + 1, r.quantity() + e.getQuantity(), r.inputTokens() + e.getInputTokens(),
                    r.outputTokens() + e.getOutputTokens(), r.cachedInputTokens() + e.getCachedInputTokens(),
                    r.unpricedEvents() + unpriced, r.costUsd().add(cost), r.cacheWriteTokens() + e.getCacheWriteTokens(),
                    r.reasoningTokens() + e.getReasoningTokens()));
        }

        Map<String, Row> hourly() {
            return rounded(hourly);
        }

        /**
         * The sink's day row is the sum of its hour rows as stored (each rounded once to nano-USD), so
         * the expected day is that sum, not the rounding of the day's exact total (they differ by a
         * nano-USD when half-nano costs, e.g. 0.5 x a price, meet in different hours).
         */
        Map<String, Row> daily() {
            Map<String, Row> out = new TreeMap<>();
            hourly().forEach((k, r) -> {
                int cut = k.lastIndexOf('|');
                String day = k.substring(0, cut) + "|" + Instant.parse(k.substring(cut + 1)).truncatedTo(ChronoUnit.DAYS);
                Row d = out.getOrDefault(day, Row.ZERO);
                out.put(day, new Row(d.events() + r.events(), d.quantity() + r.quantity(), d.inputTokens() + r.inputTokens(),
                        d.outputTokens() + r.outputTokens(), d.cachedInputTokens() + r.cachedInputTokens(),
                        d.unpricedEvents() + r.unpricedEvents(), d.costUsd().add(r.costUsd()),
                        d.cacheWriteTokens() + r.cacheWriteTokens(), d.reasoningTokens() + r.reasoningTokens()));
            });
            return out;
        }

        /** week-messages, week-events, week-cost used (the rolling 7 days hold every accepted event). */
        String check(String org) {
            long[] o = perOrg.getOrDefault(org, new long[3]);
            return "week-messages=" + o[1] + " week-events=" + o[0] + " week-cost="
                    + weekCost(org).stripTrailingZeros().toPlainString() + " week-tokens=" + o[2];
        }

        /**
         * The rolling 7 days' cost as the check sums it: org rows, each rounded once to nano-USD when
         * stored, the window's whole UTC days from the daily rows and its other hours from the hourly
         * rows (a half-nano cost rounds differently in a sum of rows than in the org's exact total).
         * The window ends at the next hour, so from 23:00 UTC today is a whole day too.
         */
        private BigDecimal weekCost(String org) {
            Instant end = Instant.now().truncatedTo(ChronoUnit.HOURS).plus(1, ChronoUnit.HOURS);
            Instant start = end.minus(7, ChronoUnit.DAYS);
            Instant wholeFrom = start.truncatedTo(ChronoUnit.DAYS).equals(start) ? start
                    : start.truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
            Instant wholeTo = end.truncatedTo(ChronoUnit.DAYS);
            Map<String, BigDecimal> rows = new TreeMap<>();
            orgHourCost.forEach((k, cost) -> {
                String[] f = k.split("\\|", -1);
                Instant hour = Instant.parse(f[2]);
                if (f[0].equals(org)) {
                    boolean wholeDay = !hour.isBefore(wholeFrom) && hour.isBefore(wholeTo);
                    rows.merge(f[1] + "|" + (wholeDay ? hour.truncatedTo(ChronoUnit.DAYS) : hour), cost,
                            BigDecimal::add);
                }
            });
            return rows.values().stream().map(c -> c.setScale(9, RoundingMode.HALF_EVEN))
                    .reduce(BigDecimal.ZERO.setScale(9), BigDecimal::add);
        }

        /** The org's hourly rows keyed as the report groups them: hour|feature|provider|model|user. */
        Map<String, Row> report(String org) {
            Map<String, Row> out = new TreeMap<>();
            hourly().forEach((k, r) -> {
                String[] f = k.split("\\|", -1);
                if (f[0].equals(org)) {
                    out.put(f[5] + "|" + f[2] + "|" + f[3] + "|" + f[4] + "|" + f[1], r);
                }
            });
            return out;
        }

        private static Map<String, Row> rounded(Map<String, Row> rows) {
            Map<String, Row> out = new TreeMap<>();
            rows.forEach((k, r) -> out.put(k, new Row(r.events(), r.quantity(), r.inputTokens(), r.outputTokens(),
                    r.cachedInputTokens(), r.unpricedEvents(), r.costUsd().setScale(9, RoundingMode.HALF_EVEN),
                    r.cacheWriteTokens(), r.reasoningTokens())));
            return out;
        }
    }

    record Row(long events, long quantity, long inputTokens, long outputTokens, long cachedInputTokens,
               long unpricedEvents, BigDecimal costUsd, long cacheWriteTokens, long reasoningTokens) {
        static final Row ZERO = new Row(0, 0, 0, 0, 0, 0, BigDecimal.ZERO, 0, 0);
    }

    // ---------------------------------------------------------------- plumbing

    private static void send(KafkaProducer<String, byte[]> producer, Serializer<UsageEvent> serializer,
                             List<Traffic.Planned> plan, GroundTruth truth, Map<String, Set<String>> refused) throws Exception {
        List<Map.Entry<Traffic.Planned, java.util.concurrent.Future<RecordMetadata>>> acks = new ArrayList<>();
        for (Traffic.Planned p : plan) {
            byte[] value = p.raw() != null ? p.raw() : serializer.serialize(topics.events(), p.event());
            acks.add(Map.entry(p, producer.send(new ProducerRecord<>(topics.events(), p.key(), value))));
            if (p.kind() == Traffic.Kind.ACCEPTED) {
                truth.accept(p.event());
            }
        }
        producer.flush();
        for (var a : acks) {
            RecordMetadata m = a.getValue().get(30, TimeUnit.SECONDS);
            Traffic.Kind k = a.getKey().kind();
            if (k == Traffic.Kind.MALFORMED || k == Traffic.Kind.INVALID || k == Traffic.Kind.LATE) {
                refused.computeIfAbsent(k.name(), x -> new HashSet<>()).add(m.partition() + "@" + m.offset());
            }
        }
    }

    /** POST /api/v1/events in batches of 200 (202 after Kafka acknowledged every event of the batch). */
    private static void ingestOverHttp(List<Traffic.Planned> accepted, GroundTruth truth) throws Exception {
        ObjectMapper json = new ObjectMapper();
        HttpClient http = HttpClient.newHttpClient();
        for (int from = 0; from < accepted.size(); from += 200) {
            List<Map<String, Object>> batch = new ArrayList<>();
            for (Traffic.Planned p : accepted.subList(from, Math.min(accepted.size(), from + 200))) {
                UsageEvent e = p.event();
                batch.add(EventJson.toJson(e));
                truth.accept(e);
            }
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port()
                            + "/api/v1/events")).header("Authorization", "Bearer " + TOKEN)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(batch))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            assertThat(json.readTree(r.body()).path("accepted").asInt()).as(r.body()).isEqualTo(batch.size());
        }
    }

    private static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers(), "acks", "all",
                "enable.idempotence", true, "linger.ms", 5), new StringSerializer(), new ByteArraySerializer());
    }

    private static SchemaRegistryClient registry() {
        return HttpSchemaRegistryClient.fromConfig(Map.of(HttpSchemaRegistryClient.URL_CONFIG, REGISTRY.confluentUrl()));
    }

    /** A service's {@code main} in its own JVM on this test's class path, configured like production. */
    private static Process child(String mainClass, String name) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx384m", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), mainClass);
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        pb.redirectOutput(new File(work.toFile(), name + ".log"));
        return pb.start();
    }

    private static Map<String, Row> rows(String table) throws Exception {
        Map<String, Row> out = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(dbUrl, PG.user(), PG.password()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT org_id, user_id, feature, provider, model, window_start, events, quantity, "
                     + "input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd, cache_write_tokens, "
                     + "reasoning_tokens FROM metering." + table)) {
            while (rs.next()) {
                String key = rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4) + "|"
                        + rs.getString(5) + "|" + rs.getTimestamp(6).toInstant();
                out.put(key, new Row(rs.getLong(7), rs.getLong(8), rs.getLong(9), rs.getLong(10), rs.getLong(11),
                        rs.getLong(12), rs.getBigDecimal(13), rs.getLong(14), rs.getLong(15)));
            }
        }
        return out;
    }

    private static long eventsInDb(String table) throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl, PG.user(), PG.password()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(SUM(events), 0) FROM metering." + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long lateEventsInDb() throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl, PG.user(), PG.password()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM metering.late_events")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Map<String, Set<String>> deadLetters() throws Exception {
        Map<String, Set<String>> out = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(dbUrl, PG.user(), PG.password()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT reason, kafka_partition, kafka_offset FROM metering.dead_letters "
                     + "WHERE topic = '" + topics.events() + "'")) {
            while (rs.next()) {
                out.computeIfAbsent(rs.getString(1), x -> new HashSet<>()).add(rs.getInt(2) + "@" + rs.getLong(3));
            }
        }
        return out;
    }

    /** GET /api/v1/usage/{org}/report, hourly, grouped by feature, model and user, over the whole traffic. */
    private static Map<String, Row> report(String org, Instant base) throws Exception {
        String url = "http://127.0.0.1:" + api.port() + "/api/v1/usage/" + org + "/report?granularity=hour&groupBy=feature,model,user"
                + "&from=" + base.minus(4, ChronoUnit.HOURS) + "&to=" + base.plus(6, ChronoUnit.HOURS);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        Map<String, Row> out = new TreeMap<>();
        for (JsonNode row : new ObjectMapper().readTree(r.body()).path("rows")) {
            String key = Instant.parse(row.path("period").asText()) + "|" + row.path("feature").asText() + "|"
                    + row.path("provider").asText() + "|" + row.path("model").asText() + "|" + row.path("userId").asText();
            out.put(key, new Row(row.path("events").asLong(), row.path("quantity").asLong(), row.path("inputTokens").asLong(),
                    row.path("outputTokens").asLong(), row.path("cachedInputTokens").asLong(),
                    row.path("unpricedEvents").asLong(), new BigDecimal(row.path("costUsd").asText()).setScale(9),
                    row.path("cacheWriteTokens").asLong(), row.path("reasoningTokens").asLong()));
        }
        return out;
    }

    private static String check(String org) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + api.port() + "/api/v1/usage/" + org + "/check/CHAT_MESSAGE"))
                .header("Authorization", "Bearer " + TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = new ObjectMapper().readTree(r.body());
        assertThat(body.path("allowed").asBoolean()).isTrue();
        Map<String, String> used = new TreeMap<>();
        for (JsonNode l : body.path("limits")) {
            used.put(l.path("id").asText(), new BigDecimal(l.path("used").asText()).stripTrailingZeros().toPlainString());
        }
        return "week-messages=" + used.get("week-messages") + " week-events=" + used.get("week-events") + " week-cost="
                + used.get("week-cost") + " week-tokens=" + used.get("week-tokens");
    }
}
