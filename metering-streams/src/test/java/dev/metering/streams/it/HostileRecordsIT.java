package dev.metering.streams.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.devstack.TestInfra;
import dev.metering.events.DeadLetterHeaders;
import dev.metering.events.UsageEvents;
import dev.metering.events.config.ConfigSource;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.TopicProvisioner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of record a hostile or broken producer can write, interleaved with valid events, on
 * the real broker and Apicurio (behind {@link RegistryProxy}, which refuses one id with 403 and can
 * play an outage): the totals equal the valid events exactly, each hostile record is in the
 * dead-letter topic with its reason, and Kafka Streams never leaves RUNNING/REBALANCING.
 */
class HostileRecordsIT {

    private static final EnumSet<KafkaStreams.State> HEALTHY =
            EnumSet.of(KafkaStreams.State.RUNNING, KafkaStreams.State.REBALANCING);
    private static final int ORGS = 10;
    private static final Duration PATIENCE = Duration.ofMinutes(3);

    @TempDir
    Path stateDir;

    private record Hostile(String what, String reason, String messagePart, byte[] value) {
    }

    @Test
    void shouldCountExactlyTheValidEventsAndDeadLetterEveryHostileRecordWhileStayingRunning() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        try (RegistryProxy proxy = new RegistryProxy(TestInfra.registry().confluentUrl())) {
            StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.of(env(run, proxy.url(), stateDir)));
            TopicProvisioner.ensureTopics(config.kafkaProperties(), config.topics(), config.partitions(),
                    config.replicationFactor(), true);
            try (Pipeline pipeline = new Pipeline(TestInfra.kafka().bootstrapServers(),
                    TestInfra.registry().confluentUrl(), config.topics())) {
                Instant at = Instant.now().minus(Duration.ofMinutes(10));
                List<UsageEvent> valid = validEvents(at, 600);
                int jsonId = registerJsonSchema("it-" + run + "-json-value");
                Schema refusedSchema = withExtraField(UsageEvent.getClassSchema(), "aclProbe" + run.replace("-", ""));
                int refusedId = pipeline.registry.register("it-" + run + "-refused-value", refusedSchema);
                proxy.refuse(refusedId);
                List<Hostile> hostile = hostileRecords(pipeline, valid.get(1), jsonId, refusedId, refusedSchema);

                try (StreamsApp app = StreamsApp.start(config);
                        Pipeline.AggregatesReader aggregates = pipeline.aggregatesReader();
                        Pipeline.DeadLetterReader deadLetters = pipeline.deadLetterReader()) {
                    assertThat(app.awaitRunning(Duration.ofMinutes(1))).isTrue();
                    Map<String, Hostile> expectedByOrigin = new LinkedHashMap<>();
                    List<Future<RecordMetadata>> hostileSends = new ArrayList<>();
                    int every = valid.size() / hostile.size();
                    for (int i = 0; i < valid.size(); i++) {
                        UsageEvent e = valid.get(i);
                        pipeline.sendRaw(e.getOrgId().getBytes(UTF_8), pipeline.encode(e));
                        if (i % every == 3 && i / every < hostile.size()) {
                            Hostile h = hostile.get(i / every);
                            hostileSends.add(pipeline.sendRaw(e.getOrgId().getBytes(UTF_8), h.value()));
                        }
                    }
                    pipeline.flush();
                    for (int i = 0; i < hostileSends.size(); i++) {
                        RecordMetadata m = hostileSends.get(i).get(30, TimeUnit.SECONDS);
                        expectedByOrigin.put(m.partition() + "@" + m.offset(), hostile.get(i));
                    }
                    assertThat(expectedByOrigin).hasSize(hostile.size());

                    await().atMost(PATIENCE).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                            assertThat(orgTotals(aggregates.poll())).isEqualTo(expectedOrgTotals(valid)));
                    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                        deadLetters.byReason();
                        assertThat(deadLetters.records()).hasSize(hostile.size());
                    });
                    for (ConsumerRecord<byte[], byte[]> dead : deadLetters.records()) {
                        String origin = header(dead, DeadLetterHeaders.ORIGINAL_PARTITION) + "@"
                                + header(dead, DeadLetterHeaders.ORIGINAL_OFFSET);
                        Hostile h = expectedByOrigin.get(origin);
                        assertThat(h).as("dead letter from " + origin).isNotNull();
                        assertThat(header(dead, DeadLetterHeaders.REASON)).as(h.what()).isEqualTo(h.reason());
                        assertThat(header(dead, DeadLetterHeaders.MESSAGE)).as(h.what()).contains(h.messagePart());
                        assertThat(dead.value()).as(h.what()).isEqualTo(h.value());
                    }
                    assertThat(app.states()).as("states since start").isNotEmpty().allMatch(HEALTHY::contains);
                    assertThat(app.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
                    assertThat(app.failed()).isFalse();
                    assertThat(proxy.requests("/schemas/ids/" + refusedId)).as("a refused id is remembered").isEqualTo(1);
                }
            }
        }
    }

    @Test
    void shouldWaitOutARegistryOutageThenCountEverythingOnceWithoutError() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        try (RegistryProxy proxy = new RegistryProxy(TestInfra.registry().confluentUrl())) {
            StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.of(env(run, proxy.url(), stateDir)));
            TopicProvisioner.ensureTopics(config.kafkaProperties(), config.topics(), config.partitions(),
                    config.replicationFactor(), true);
            try (Pipeline pipeline = new Pipeline(TestInfra.kafka().bootstrapServers(),
                    TestInfra.registry().confluentUrl(), config.topics());
                    StreamsApp app = StreamsApp.start(config);
                    Pipeline.AggregatesReader aggregates = pipeline.aggregatesReader()) {
                assertThat(app.awaitRunning(Duration.ofMinutes(1))).isTrue();
                Instant at = Instant.now().minus(Duration.ofMinutes(10));
                List<UsageEvent> before = validEvents(at, 200);
                pipeline.sendEvents(before);
                await().atMost(PATIENCE).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                        assertThat(orgTotals(aggregates.poll())).isEqualTo(expectedOrgTotals(before)));

                // 1. the registry goes away; producers go on with a schema version the stream has not seen yet
                proxy.mode(RegistryProxy.Mode.ANSWER_503);
                Schema v2 = withExtraField(UsageEvent.getClassSchema(), "region");
                List<UsageEvent> during = validEvents(at, 300);
                int v2Id = -1;
                for (UsageEvent e : during) {
                    byte[] bytes = pipeline.encode(toGeneric(e, v2));
                    v2Id = ByteBuffer.wrap(bytes).getInt(1);
                    pipeline.sendRaw(e.getOrgId().getBytes(UTF_8), bytes);
                }
                pipeline.flush();
                String v2Path = "/schemas/ids/" + v2Id;

                // 2. the stream asks again and again, counts nothing past the record it cannot decode
                await().atMost(Duration.ofSeconds(60)).until(() -> proxy.requests(v2Path) >= 5);
                proxy.mode(RegistryProxy.Mode.DROP_CONNECTIONS);
                int asked = proxy.requests(v2Path);
                await().atMost(Duration.ofSeconds(60)).until(() -> proxy.requests(v2Path) >= asked + 3);
                assertThat(orgTotals(aggregates.poll())).isEqualTo(expectedOrgTotals(before));

                // 3. the registry is back: every event is counted once, and the client never left RUNNING/REBALANCING
                proxy.mode(RegistryProxy.Mode.UP);
                List<UsageEvent> all = new ArrayList<>(before);
                all.addAll(during);
                await().atMost(PATIENCE).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                        assertThat(orgTotals(aggregates.poll())).isEqualTo(expectedOrgTotals(all)));
                assertThat(app.states()).as("states since start").allMatch(HEALTHY::contains);
                assertThat(app.failed()).isFalse();
                await().atMost(Duration.ofSeconds(60)).until(() -> app.streams().state() == KafkaStreams.State.RUNNING);
            }
        }
    }

    /** Valid events over {@link #ORGS} orgs, including every string at its bound. */
    private static List<UsageEvent> validEvents(Instant at, int n) {
        List<UsageEvent> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            UsageEvents.Builder b = UsageEvents.builder(java.time.Clock.systemUTC()).org("org-" + (i % ORGS)).feature("CHAT_MESSAGE")
                    .at(at.plusMillis(i)).user("user-" + (i % 7)).model("openai", "gpt-5").tokens(10 + i, i % 5)
                    .quantity(1 + i % 3);
            if (i % 50 == 0) {
                b.user("é".repeat(128)).conversation("c".repeat(256)).model("p".repeat(256), "\uD83D\uDE00".repeat(64))
                        .source("s".repeat(256));
                for (int a = 0; a < 32; a++) {
                    b.attribute(String.format("%064d", a), "v".repeat(256));
                }
            }
            events.add(b.build());
        }
        return events;
    }

    private static List<Hostile> hostileRecords(Pipeline pipeline, UsageEvent base, int jsonId, int refusedId,
                                                Schema refusedSchema) throws IOException {
        byte[] template = pipeline.encode(base);
        List<Hostile> out = new ArrayList<>();
        out.add(new Hostile("garbage bytes", "MALFORMED", "magic byte", "definitely not avro".getBytes(UTF_8)));
        out.add(new Hostile("empty value", "MALFORMED", "shorter than the 5-byte header", new byte[0]));
        out.add(new Hostile("truncated Avro", "MALFORMED", "truncated", Arrays.copyOf(template, template.length - 4)));
        out.add(new Hostile("trailing bytes", "MALFORMED", "trailing bytes", Arrays.copyOf(template, template.length + 3)));
        byte[] unknown = template.clone();
        ByteBuffer.wrap(unknown).putInt(1, 1_999_999_999);
        out.add(new Hostile("unknown schema id", "UNKNOWN_SCHEMA", "HTTP 404", unknown));
        byte[] json = template.clone();
        ByteBuffer.wrap(json).putInt(1, jsonId);
        out.add(new Hostile("the id of a JSON schema", "UNKNOWN_SCHEMA", "schema id " + jsonId, json));
        out.add(new Hostile("an id the registry refuses (403)", "UNKNOWN_SCHEMA", "HTTP 403, error_code 40301",
                wire(refusedId, toGeneric(base, refusedSchema))));
        out.add(new Hostile("userId over 256 bytes", "INVALID", "userId TOO_LONG",
                encode(pipeline, base, e -> e.setUserId("u".repeat(3000)))));
        out.add(new Hostile("model over 256 bytes", "INVALID", "model TOO_LONG",
                encode(pipeline, base, e -> e.setModel("m".repeat(257)))));
        out.add(new Hostile("10,000 attributes", "INVALID", "attributes TOO_MANY", encode(pipeline, base, e -> {
            for (int i = 0; i < 10_000; i++) {
                e.getAttributes().put("k" + i, "v");
            }
        })));
        out.add(new Hostile("U+0000 in userId", "INVALID", "userId INVALID_CHARACTER",
                encode(pipeline, base, e -> e.setUserId("bob\u0000"))));
        out.add(new Hostile("a newline in an attribute value", "INVALID", "attributes.plan INVALID_CHARACTER",
                encode(pipeline, base, e -> e.getAttributes().put("plan", "pro\nfree"))));
        out.add(new Hostile("U+001F in source", "INVALID", "source INVALID_CHARACTER",
                encode(pipeline, base, e -> e.setSource("chat\u001f"))));
        out.add(new Hostile("absurd tokens", "INVALID", "inputTokens TOO_LARGE",
                encode(pipeline, base, e -> e.setInputTokens(2_000_000_000L))));
        return out;
    }

    /** A copy of {@code base} with a change, in the events topic's schema (no validation on the way). */
    private static byte[] encode(Pipeline pipeline, UsageEvent base, Consumer<UsageEvent> change) {
        UsageEvent e = UsageEvent.newBuilder(base).build();
        e.setAttributes(new HashMap<>(base.getAttributes()));
        change.accept(e);
        return pipeline.encode(e);
    }

    private static byte[] wire(int schemaId, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(schemaId).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    static Schema withExtraField(Schema schema, String field) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(schema.toString());
        ObjectNode added = ((ArrayNode) root.get("fields")).addObject().put("name", field);
        added.set("type", json.readTree("[\"null\", \"string\"]"));
        added.putNull("default");
        return new Schema.Parser().parse(root.toString());
    }

    static GenericRecord toGeneric(UsageEvent event, Schema schema) {
        GenericData.Record r = new GenericData.Record(schema);
        for (Schema.Field f : UsageEvent.getClassSchema().getFields()) {
            Object v = event.get(f.name());
            r.put(f.name(), v instanceof Instant i ? i.toEpochMilli() : v);
        }
        return r;
    }

    private static int registerJsonSchema(String subject) throws Exception {
        String body = new ObjectMapper().createObjectNode()
                .put("schemaType", "JSON")
                .put("schema", "{\"type\":\"object\",\"properties\":{\"orgId\":{\"type\":\"string\"}}}").toString();
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(TestInfra.registry().confluentUrl() + "/subjects/" + subject + "/versions"))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return new ObjectMapper().readTree(response.body()).get("id").asInt();
    }

    /** (org, hour) → [events, quantity, input tokens] from the ORG grain's HOUR rows. */
    private static Map<String, List<Long>> orgTotals(Map<UsageWindowKey, UsageWindowTotals> rows) {
        Map<String, List<Long>> out = new HashMap<>();
        rows.forEach((k, v) -> {
            if (k.getGrain() == WindowGrain.ORG && k.getSize() == WindowSize.HOUR) {
                out.merge(k.getOrgId() + " " + k.getWindowStart(), List.of(v.getEvents(), v.getQuantity(), v.getInputTokens()),
                        (a, b) -> List.of(a.get(0) + b.get(0), a.get(1) + b.get(1), a.get(2) + b.get(2)));
            }
        });
        return out;
    }

    private static Map<String, List<Long>> expectedOrgTotals(List<UsageEvent> events) {
        Map<String, List<Long>> out = new HashMap<>();
        for (UsageEvent e : events) {
            Instant hour = e.getOccurredAt().truncatedTo(java.time.temporal.ChronoUnit.HOURS);
            out.merge(e.getOrgId() + " " + hour, List.of(1L, e.getQuantity(), e.getInputTokens()),
                    (a, b) -> List.of(a.get(0) + b.get(0), a.get(1) + b.get(1), a.get(2) + b.get(2)));
        }
        return out;
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), UTF_8);
    }

    private static Map<String, String> env(String run, String registryUrl, Path stateDir) {
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", TestInfra.kafka().bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", registryUrl);
        env.put("METERING_TOPIC_PREFIX", "it-" + run + ".");
        env.put("METERING_TOPIC_PARTITIONS", "2");
        env.put("METERING_STREAMS_APPLICATION_ID", "metering-streams-hostile-" + run);
        env.put("METERING_STREAMS_STATE_DIR", stateDir.toString());
        env.put("METERING_STREAMS_METRICS_PORT", "0");
        return env;
    }
}
