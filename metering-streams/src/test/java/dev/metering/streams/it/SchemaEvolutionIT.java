package dev.metering.streams.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceServiceTier;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.devstack.TestInfra;
import dev.metering.events.config.ConfigSource;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import dev.metering.streams.TopicProvisioner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Price book v2 evolves {@code UsageEvent} and {@code ModelPrice} on a real registry (BACKWARD
 * subjects) and broker: a record written with the schemas of before (kept as test resources) is
 * decoded with the new fields' defaults and priced exactly as before, beside a new record using
 * cache writes and a service tier.
 */
class SchemaEvolutionIT {

    @TempDir
    Path stateDir;

    @Test
    void shouldDecodeAndPriceARecordWrittenWithTheOldSchemaExactlyAsBefore() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        StreamsAppConfig config = StreamsAppConfig.from(ConfigSource.of(env(run, stateDir)));
        Instant hour = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.HOURS);
        try (Pipeline pipeline = new Pipeline(TestInfra.kafka().bootstrapServers(), TestInfra.registry().confluentUrl(),
                config.topics())) {
            TopicProvisioner.ensureTopics(config.kafkaProperties(), config.topics(), config.partitions(),
                    config.replicationFactor(), true);
            String eventsSubject = config.topics().events() + "-value";
            String pricesSubject = config.topics().prices() + "-value";
            Schema oldEvent = resource("avro/UsageEvent-v1.avsc");
            Schema oldPrice = resource("avro/ModelPrice-v1.avsc");

            // 1. the subjects as an old producer left them: the old schemas, BACKWARD
            int oldEventId = pipeline.registry.register(eventsSubject, oldEvent);
            int oldPriceId = pipeline.registry.register(pricesSubject, oldPrice);
            pipeline.registry.setCompatibility(eventsSubject, "BACKWARD");
            pipeline.registry.setCompatibility(pricesSubject, "BACKWARD");

            // 2. the registry's own BACKWARD rule accepts the new versions
            assertThat(pipeline.registry.getCompatibility(eventsSubject)).isEqualTo("BACKWARD");
            assertThat(pipeline.registry.testCompatibility(eventsSubject, UsageEvent.getClassSchema())).isTrue();
            assertThat(pipeline.registry.testCompatibility(pricesSubject, ModelPrice.getClassSchema())).isTrue();
            int newEventId = pipeline.registry.register(eventsSubject, UsageEvent.getClassSchema());
            assertThat(newEventId).isNotEqualTo(oldEventId);
            assertThat(pipeline.registry.getLatestVersion(eventsSubject).version()).isEqualTo(2);

            // 3. gpt-5 priced by an old-schema price record; claude by a new one with a cache-write price and batch
            GenericRecord gpt5 = new GenericData.Record(oldPrice);
            gpt5.put("provider", "openai");
            gpt5.put("model", "gpt-5");
            gpt5.put("effectiveFrom", hour.minus(Duration.ofDays(30)).toEpochMilli());
            gpt5.put("inputPer1MNanos", 1_250_000_000L);
            gpt5.put("cachedInputPer1MNanos", 125_000_000L);
            gpt5.put("outputPer1MNanos", 10_000_000_000L);
            gpt5.put("unitNanos", null);
            gpt5.put("history", List.of());
            pipeline.sendRawTo(config.topics().prices(), "openai/gpt-5".getBytes(UTF_8), wire(oldPriceId, oldPrice, gpt5));
            pipeline.sendPrices(List.of(ModelPrice.newBuilder().setProvider("anthropic").setModel("claude-sonnet-4-5")
                    .setEffectiveFrom(hour.minus(Duration.ofDays(30))).setInputPer1MNanos(3_000_000_000L)
                    .setCachedInputPer1MNanos(300_000_000L).setOutputPer1MNanos(15_000_000_000L)
                    .setCacheWritePer1MNanos(3_750_000_000L)
                    .setServiceTiers(List.of(new ModelPriceServiceTier("batch", new BigDecimal("0.500000"))))
                    .setHistory(List.of()).build()));

            // 4. an event as an old producer writes it, and one with the new fields
            GenericRecord old = new GenericData.Record(oldEvent);
            old.put("eventId", "old-1");
            old.put("orgId", "org-old");
            old.put("occurredAt", hour.plusSeconds(60).toEpochMilli());
            old.put("feature", "AI_COMPLETION");
            old.put("provider", "openai");
            old.put("model", "gpt-5");
            old.put("quantity", 1L);
            old.put("inputTokens", 1000L);
            old.put("outputTokens", 500L);
            old.put("cachedInputTokens", 200L);
            old.put("attributes", Map.of());
            pipeline.sendRaw("org-old".getBytes(UTF_8), wire(oldEventId, oldEvent, old));
            pipeline.sendEvents(List.of(UsageEvent.newBuilder().setEventId("new-1").setOrgId("org-new")
                    .setOccurredAt(hour.plusSeconds(60)).setFeature("AI_COMPLETION").setProvider("anthropic")
                    .setModel("claude-sonnet-4-5").setInputTokens(1000).setOutputTokens(100).setCachedInputTokens(500)
                    .setCacheWriteTokens(2000).setReasoningTokens(40).setServiceTier("batch").build()));

            try (StreamsApp app = StreamsApp.start(config); Pipeline.AggregatesReader aggregates = pipeline.aggregatesReader()) {
                assertThat(app.awaitRunning(Duration.ofMinutes(1))).isTrue();
                UsageWindowKey oldRow = orgHour("org-old", hour);
                UsageWindowKey newRow = orgHour("org-new", hour);
                Map<UsageWindowKey, UsageWindowTotals> rows = new HashMap<>();
                await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
                    rows.putAll(aggregates.poll());
                    assertThat(rows).containsKeys(oldRow, newRow);
                });
                UsageWindowTotals o = rows.get(oldRow);
                // exactly as before price book v2: 1000 x 1.25e9 + 200 x 1.25e8 + 500 x 1e10
                assertThat(o.getCostFemtos()).isEqualByComparingTo(new BigDecimal("6275000000000"));
                assertThat(List.of(o.getEvents(), o.getInputTokens(), o.getOutputTokens(), o.getCachedInputTokens(),
                        o.getCacheWriteTokens(), o.getReasoningTokens(), o.getUnpricedEvents()))
                        .containsExactly(1L, 1000L, 500L, 200L, 0L, 0L, 0L);
                UsageWindowTotals n = rows.get(newRow);
                // (1000 x 3e9 + 500 x 3e8 + 2000 x 3.75e9 + 100 x 1.5e10) x 0.5
                assertThat(n.getCostFemtos()).isEqualByComparingTo(new BigDecimal("6075000000000"));
                assertThat(List.of(n.getCacheWriteTokens(), n.getReasoningTokens())).containsExactly(2000L, 40L);
            }
        }
    }

    private static UsageWindowKey orgHour(String org, Instant hour) {
        return UsageWindowKey.newBuilder().setGrain(WindowGrain.ORG).setSize(WindowSize.HOUR).setWindowStart(hour)
                .setOrgId(org).setUserId("").setFeature("AI_COMPLETION").setProvider("").setModel("")
                .setConversationId("").build();
    }

    /** Confluent wire format: magic byte 0, the schema id big-endian, the Avro binary. */
    private static byte[] wire(int schemaId, Schema schema, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(schemaId).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static Schema resource(String name) throws IOException {
        try (InputStream in = SchemaEvolutionIT.class.getClassLoader().getResourceAsStream(name)) {
            return new Schema.Parser().parse(in);
        }
    }

    private static Map<String, String> env(String run, Path stateDir) {
        Map<String, String> env = new HashMap<>();
        env.put("METERING_KAFKA_BOOTSTRAP", TestInfra.kafka().bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", TestInfra.registry().confluentUrl());
        env.put("METERING_TOPIC_PREFIX", "it-evolve-" + run + ".");
        env.put("METERING_TOPIC_PARTITIONS", "2");
        env.put("METERING_STREAMS_APPLICATION_ID", "metering-streams-evolve-" + run);
        env.put("METERING_STREAMS_STATE_DIR", stateDir.toString());
        env.put("METERING_STREAMS_METRICS_PORT", "0");
        return env;
    }
}
