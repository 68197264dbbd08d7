package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.events.DeadLetterHeaders;
import dev.metering.events.Topics;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class RecordDecoderTest {

    private static final Topics TOPICS = Topics.defaults();
    private static final Instant T0 = Instant.parse("2026-11-02T10:00:00Z");

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final Serde<UsageWindowKey> keys = AvroSerdes.specific(UsageWindowKey.class, registry, Map.of(), true);
    private final Serde<UsageWindowTotals> totals = AvroSerdes.specific(UsageWindowTotals.class, registry, Map.of(), false);
    private final Serde<UsageEvent> events = AvroSerdes.specific(UsageEvent.class, registry, Map.of(), false);
    private final RecordDecoder decoder = new RecordDecoder(TOPICS.aggregates(), TOPICS.deadLetters(),
            keys.deserializer(), totals.deserializer(), events.deserializer());

    @Test
    void shouldCollapseUpdatesOfOneKeyToTheHighestVersion() {
        Batch batch = new Batch();
        UsageWindowKey acme = Aggregates.key().org("acme").hour(T0).build();
        batch.add(aggregate(0, 10, acme, Aggregates.totals().events(3).version(3).build()));
        batch.add(aggregate(0, 11, acme, Aggregates.totals().events(5).version(5).build()));
        batch.add(aggregate(0, 12, acme, Aggregates.totals().events(4).version(4).build()));
        batch.add(aggregate(0, 13, Aggregates.key().org("beta").hour(T0).build(), Aggregates.totals().events(1).build()));

        PreparedBatch prepared = decoder.prepare(batch);

        assertThat(prepared.updates()).hasSize(2);
        assertThat(prepared.updates().get(0).key().getOrgId()).isEqualTo("acme");
        assertThat(prepared.updates().get(0).totals().getEvents()).isEqualTo(5);
        assertThat(prepared.updates().get(0).offset()).isEqualTo(11);
        assertThat(prepared.collapsed()).isEqualTo(2);
        assertThat(prepared.progress()).containsEntry(new TopicPartition(TOPICS.aggregates(), 0),
                new PreparedBatch.Progress(14, Instant.parse("2026-11-02T10:05:00Z")));
    }

    @Test
    void shouldOrderUpdatesByGrainSizeOrgWindowStartThenTheOtherDimensions() {
        UsageWindowKey[] expected = {
            Aggregates.key().org("acme").hour(T0).user("a").build(),
            Aggregates.key().org("acme").hour(T0).user("b").build(),
            Aggregates.key().org("acme").hour(T0).user("b").feature("EMBEDDING").build(),
            Aggregates.key().org("acme").hour(T0).user("b").feature("EMBEDDING").model("openai", "gpt-5").build(),
            Aggregates.key().org("acme").hour(T0).user("b").feature("EMBEDDING").model("openai", "gpt-6").build(),
            Aggregates.key().org("acme").hour(T0.plusSeconds(3600)).user("a").build(),
            Aggregates.key().org("beta").hour(T0).build(),
            Aggregates.key().org("acme").day(T0).build(),
            Aggregates.key().org("acme").hour(T0).orgGrain().build(),
        };
        Batch batch = new Batch();
        int[] shuffled = {6, 2, 8, 0, 4, 7, 1, 5, 3};
        for (int i = 0; i < shuffled.length; i++) {
            batch.add(aggregate(0, i, expected[shuffled[i]], Aggregates.totals().build()));
        }

        PreparedBatch prepared = decoder.prepare(batch);

        assertThat(prepared.updates()).extracting(WindowUpdate::key).containsExactly(expected);
    }

    @Test
    void shouldDeadLetterAnAggregateThatDoesNotDecode() {
        Batch batch = new Batch();
        batch.add(new ConsumerRecord<>(TOPICS.aggregates(), 1, 7, "junk".getBytes(StandardCharsets.UTF_8),
                "more junk".getBytes(StandardCharsets.UTF_8)));

        PreparedBatch prepared = decoder.prepare(batch);

        assertThat(prepared.updates()).isEmpty();
        assertThat(prepared.deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.reason()).isEqualTo("MALFORMED");
            assertThat(d.stage()).isEqualTo("sink");
            assertThat(d.topic()).isEqualTo(TOPICS.aggregates());
            assertThat(d.partition()).isEqualTo(1);
            assertThat(d.offset()).isEqualTo(7);
        });
        assertThat(prepared.progress().get(new TopicPartition(TOPICS.aggregates(), 1)).nextOffset()).isEqualTo(8);
    }

    @Test
    void shouldReadTheOriginFromDeadLetterHeadersAndDecodeLateEvents() {
        UsageEvent event = UsageEvent.newBuilder().setEventId("e-1").setOrgId("acme").setOccurredAt(T0)
                .setFeature("AI_COMPLETION").setProvider("openai").setModel("gpt-4o").setInputTokens(120)
                .setOutputTokens(30).setCostNanos(1_500L).build();
        byte[] payload = events.serializer().serialize(TOPICS.events(), event);
        RecordHeaders headers = new RecordHeaders();
        header(headers, DeadLetterHeaders.REASON, "LATE");
        header(headers, DeadLetterHeaders.MESSAGE, "3 days late");
        header(headers, DeadLetterHeaders.STAGE, "aggregate");
        header(headers, DeadLetterHeaders.ORIGINAL_TOPIC, TOPICS.events());
        header(headers, DeadLetterHeaders.ORIGINAL_PARTITION, "2");
        header(headers, DeadLetterHeaders.ORIGINAL_OFFSET, "41");
        header(headers, DeadLetterHeaders.ORIGINAL_TIMESTAMP, Long.toString(T0.toEpochMilli()));
        Batch batch = new Batch();
        batch.add(new ConsumerRecord<>(TOPICS.deadLetters(), 0, 5, 0L, TimestampType.CREATE_TIME, 4, payload.length,
                "acme".getBytes(StandardCharsets.UTF_8), payload, headers, Optional.empty()));

        DeadLetterRow d = decoder.prepare(batch).deadLetters().get(0);

        assertThat(d.reason()).isEqualTo("LATE");
        assertThat(d.message()).isEqualTo("3 days late");
        assertThat(d.topic()).isEqualTo(TOPICS.events());
        assertThat(d.partition()).isEqualTo(2);
        assertThat(d.offset()).isEqualTo(41);
        assertThat(d.recordTimestamp()).isEqualTo(T0);
        assertThat(d.late()).isTrue();
        assertThat(d.event()).isEqualTo(event);
    }

    @Test
    void shouldDecodeAnInvalidEventSoItsOrgAndEventIdAreStored() {
        UsageEvent event = UsageEvent.newBuilder().setEventId("e-bad").setOrgId("acme").setOccurredAt(T0)
                .setFeature("chat message").build();
        byte[] payload = events.serializer().serialize(TOPICS.events(), event);
        RecordHeaders headers = new RecordHeaders();
        header(headers, DeadLetterHeaders.REASON, "INVALID");
        header(headers, DeadLetterHeaders.ORIGINAL_TOPIC, TOPICS.events());
        header(headers, DeadLetterHeaders.ORIGINAL_PARTITION, "0");
        header(headers, DeadLetterHeaders.ORIGINAL_OFFSET, "7");
        Batch batch = new Batch();
        batch.add(new ConsumerRecord<>(TOPICS.deadLetters(), 0, 6, 0L, TimestampType.CREATE_TIME, 4, payload.length,
                "acme".getBytes(StandardCharsets.UTF_8), payload, headers, Optional.empty()));

        DeadLetterRow d = decoder.prepare(batch).deadLetters().get(0);

        assertThat(d.late()).isFalse();
        assertThat(d.event().getOrgId()).isEqualTo("acme");
        assertThat(d.event().getEventId()).isEqualTo("e-bad");
    }

    @Test
    void shouldNotDecodeAMalformedDeadLetter() {
        RecordHeaders headers = new RecordHeaders();
        header(headers, DeadLetterHeaders.REASON, "MALFORMED");
        Batch batch = new Batch();
        batch.add(new ConsumerRecord<>(TOPICS.deadLetters(), 0, 6, 0L, TimestampType.CREATE_TIME, 0, 6, null,
                new byte[] {0, 0, 0, 0, 9, 1}, headers, Optional.empty()));

        assertThat(decoder.prepare(batch).deadLetters().get(0).event()).isNull();
    }

    @Test
    void shouldKeepTheDeadLettersOwnCoordinatesWhenHeadersAreMissing() {
        Batch batch = new Batch();
        batch.add(new ConsumerRecord<>(TOPICS.deadLetters(), 3, 9, null, new byte[] {1, 2}));

        DeadLetterRow d = decoder.prepare(batch).deadLetters().get(0);

        assertThat(d.reason()).isEqualTo("UNSPECIFIED");
        assertThat(d.topic()).isEqualTo(TOPICS.deadLetters());
        assertThat(d.partition()).isEqualTo(3);
        assertThat(d.offset()).isEqualTo(9);
        assertThat(d.event()).isNull();
    }

    private ConsumerRecord<byte[], byte[]> aggregate(int partition, long offset, UsageWindowKey key,
                                                     UsageWindowTotals value) {
        return new ConsumerRecord<>(TOPICS.aggregates(), partition, offset,
                keys.serializer().serialize(TOPICS.aggregates(), key),
                totals.serializer().serialize(TOPICS.aggregates(), value));
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
