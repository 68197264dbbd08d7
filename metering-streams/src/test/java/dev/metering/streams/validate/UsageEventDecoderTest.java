package dev.metering.streams.validate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.UsageEvent;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import dev.metering.events.serde.AvroDeserializer;
import dev.metering.events.serde.AvroSerializer;
import dev.metering.events.serde.MalformedPayloadException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UsageEventDecoderTest {

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final AvroSerializer<Object> serializer = new AvroSerializer<>(registry, Map.of(), false);
    private final AvroDeserializer<UsageEvent> generic = new AvroDeserializer<>(registry, UsageEvent.class);
    private final UsageEventDecoder decoder = new UsageEventDecoder(registry, generic);

    @Test
    void shouldDecodeEveryEventExactlyAsTheAvroDeserializer() {
        Random random = new Random(11);
        for (int i = 0; i < 2_000; i++) {
            byte[] bytes = serializer.serialize("events", randomEvent(random, i));

            assertThat(decoder.direct(bytes)).isTrue();
            assertThat(UsageEventDecoder.decode(bytes)).isNotNull().isEqualTo(generic.deserialize("events", bytes));
            assertThat(decoder.deserialize("events", bytes)).isEqualTo(generic.deserialize("events", bytes));
        }
    }

    /** The decoder reads these fields in this order: a schema change must change it too. */
    @Test
    void shouldReadTheFieldsOfThisBuildsSchemaInItsOrder() {
        assertThat(UsageEvent.SCHEMA$.getFields()).extracting(f -> f.name() + " " + f.schema().getType())
                .containsExactly("eventId STRING", "orgId STRING", "occurredAt LONG", "feature STRING", "userId UNION",
                        "conversationId UNION", "provider UNION", "model UNION", "source UNION", "quantity LONG",
                        "inputTokens LONG", "outputTokens LONG", "cachedInputTokens LONG", "costNanos UNION",
                        "attributes MAP", "cacheWriteTokens LONG", "reasoningTokens LONG", "serviceTier UNION");
    }

    @Test
    void shouldLeaveATruncatedOrOverlongBodyToTheAvroDeserializer() {
        byte[] bytes = serializer.serialize("events", randomEvent(new Random(3), 1));
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 1);
        byte[] trailing = Arrays.copyOf(bytes, bytes.length + 1);

        assertThat(UsageEventDecoder.decode(truncated)).isNull();
        assertThat(UsageEventDecoder.decode(trailing)).isNull();
        assertThatThrownBy(() -> decoder.deserialize("events", truncated)).isInstanceOf(MalformedPayloadException.class)
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> decoder.deserialize("events", trailing)).isInstanceOf(MalformedPayloadException.class)
                .hasMessageContaining("trailing bytes");
    }

    @Test
    void shouldLeaveABadUnionIndexToTheAvroDeserializer() {
        UsageEvent event = UsageEvent.newBuilder().setEventId("e").setOrgId("o").setOccurredAt(Instant.ofEpochMilli(5))
                .setFeature("F").setAttributes(Map.of()).build();
        byte[] bytes = serializer.serialize("events", event);
        // eventId "e", orgId "o", occurredAt 5, feature "F", then userId's union index 0 (null): make it 2
        int userIdIndex = 5 + 2 + 2 + 1 + 2;
        assertThat(bytes[userIdIndex]).isZero();
        bytes[userIdIndex] = 4; // zig-zag 2

        assertThat(UsageEventDecoder.decode(bytes)).isNull();
        assertThatThrownBy(() -> decoder.deserialize("events", bytes)).isInstanceOf(MalformedPayloadException.class);
    }

    private static UsageEvent randomEvent(Random random, int i) {
        Map<String, String> attributes = new HashMap<>();
        for (int a = random.nextInt(4); a > 0; a--) {
            attributes.put("k" + random.nextInt(100), random.nextBoolean() ? "välue-" + a : "");
        }
        return UsageEvent.newBuilder()
                .setEventId("ev-" + i + (random.nextBoolean() ? "-ü€" : ""))
                .setOrgId("org-" + random.nextInt(50))
                .setOccurredAt(Instant.ofEpochMilli(random.nextLong(-1_000_000_000_000L, 4_000_000_000_000L)))
                .setFeature(random.nextBoolean() ? "CHAT_MESSAGE" : "AI_COMPLETION")
                .setUserId(random.nextBoolean() ? null : "user-" + random.nextInt(9))
                .setConversationId(random.nextBoolean() ? null : "c-" + random.nextInt(99))
                .setProvider(random.nextBoolean() ? null : "openai")
                .setModel(random.nextBoolean() ? null : "gpt-" + random.nextInt(5))
                .setSource(random.nextBoolean() ? null : "svc")
                .setQuantity(random.nextLong(0, 1L << 40))
                .setInputTokens(random.nextInt(100_000))
                .setOutputTokens(random.nextInt(10_000))
                .setCachedInputTokens(random.nextBoolean() ? 0 : random.nextInt(5_000))
                .setCostNanos(random.nextBoolean() ? null : random.nextLong())
                .setAttributes(attributes)
                .setCacheWriteTokens(random.nextBoolean() ? 0 : random.nextInt(100))
                .setReasoningTokens(random.nextBoolean() ? 0 : random.nextInt(100))
                .setServiceTier(random.nextBoolean() ? null : "batch")
                .build();
    }
}
