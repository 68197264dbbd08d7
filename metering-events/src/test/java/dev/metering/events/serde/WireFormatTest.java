package dev.metering.events.serde;

import static dev.metering.events.UsageEventFixtures.goldenEvent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.UsageEvent;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Confluent wire format byte for byte. The expected bytes are derived by hand from the Avro
 * 1.12 binary encoding spec (zig-zag varints, length-prefixed UTF-8, union branch index,
 * map blocks), not from the code under test.
 */
class WireFormatTest {

    private static final String TOPIC = "metering.usage.events";

    /** {@link dev.metering.events.UsageEventFixtures#goldenEvent()} with schema id 42. */
    private static final String GOLDEN = String.join("",
            "00", "0000002a",                          // magic byte, schema id 42 big-endian
            "04", "6531",                              // eventId "e1": length 2 -> zig-zag 4
            "08", "61636d65",                          // orgId "acme"
            "80a0abfef962",                            // occurredAt 1700000000000 -> zig-zag 3400000000000, varint
            "18", "434841545f4d455353414745",          // feature "CHAT_MESSAGE" (12 -> 0x18)
            "02", "04", "7531",                        // userId: union branch 1 (string), "u1"
            "00",                                      // conversationId: union branch 0 (null)
            "02", "0c", "6f70656e6169",                // provider: branch 1, "openai"
            "02", "0a", "6770742d35",                  // model: branch 1, "gpt-5"
            "00",                                      // source: null
            "02",                                      // quantity 1 -> 2
            "f001",                                    // inputTokens 120 -> 240 -> varint f0 01
            "3c",                                      // outputTokens 30 -> 60
            "00",                                      // cachedInputTokens 0
            "00",                                      // costNanos: null
            "02", "08", "706c616e", "06", "70726f", "00", // attributes: block of 1, "plan" -> "pro", end
            "00",                                      // cacheWriteTokens 0
            "00",                                      // reasoningTokens 0
            "00");                                     // serviceTier: null

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient(42);
    private final AvroSerializer<UsageEvent> serializer = new AvroSerializer<>(registry, Map.of(), false);
    private final AvroDeserializer<UsageEvent> deserializer = new AvroDeserializer<>(registry, UsageEvent.class);

    @Test
    void shouldWriteMagicByteSchemaIdAndAvroBinary() {
        byte[] bytes = serializer.serialize(TOPIC, goldenEvent());

        assertThat(HexFormat.of().formatHex(bytes)).isEqualTo(GOLDEN);
    }

    @Test
    void shouldReadGoldenBytesIntoAnEqualEvent() {
        // id 42 is the first the registry hands out, as it was for the producer of the golden bytes
        assertThat(registry.register(TOPIC + "-value", UsageEvent.getClassSchema())).isEqualTo(42);

        assertThat(deserializer.deserialize(TOPIC, HexFormat.of().parseHex(GOLDEN))).isEqualTo(goldenEvent());
    }

    @Test
    void shouldRoundTripNull() {
        assertThat(serializer.serialize(TOPIC, null)).isNull();
        assertThat(deserializer.deserialize(TOPIC, null)).isNull();
    }

    @Test
    void shouldRefuseWrongMagicByte() {
        byte[] bytes = HexFormat.of().parseHex(GOLDEN);
        bytes[0] = 0x01;

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessage("unknown magic byte 0x01 (expected 0x00)");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4})
    void shouldRefusePayloadShorterThanHeader(int length) {
        byte[] bytes = Arrays.copyOf(HexFormat.of().parseHex(GOLDEN), length);

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessage("payload of " + length + " bytes is shorter than the 5-byte header (magic byte and schema id)");
    }

    @Test
    void shouldRefuseTruncatedBody() {
        serializer.serialize(TOPIC, goldenEvent());
        byte[] golden = HexFormat.of().parseHex(GOLDEN);
        byte[] truncated = Arrays.copyOf(golden, golden.length - 10);

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, truncated))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessageStartingWith("Avro body of " + (truncated.length - 5) + " bytes is truncated for schema id 42"
                        + " (dev.metering.avro.UsageEvent)");
    }

    @Test
    void shouldRefuseHeaderWithoutBody() {
        serializer.serialize(TOPIC, goldenEvent());

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, HexFormat.of().parseHex("000000002a")))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessageStartingWith("Avro body of 0 bytes is truncated for schema id 42");
    }

    @Test
    void shouldRefuseTrailingBytes() {
        serializer.serialize(TOPIC, goldenEvent());

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, HexFormat.of().parseHex(GOLDEN + "00")))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessage("Avro body has trailing bytes after a complete record of schema id 42 (dev.metering.avro.UsageEvent)");
    }

    @Test
    void shouldRefuseUndecodableBody() {
        serializer.serialize(TOPIC, goldenEvent());
        // eventId length -1 (zig-zag 0x01): a negative string length is not Avro
        byte[] bytes = HexFormat.of().parseHex("000000002a01" + GOLDEN.substring(16));

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessageStartingWith("Avro body of " + (bytes.length - 5) + " bytes cannot be decoded with schema id 42");
    }

    @Test
    void shouldRefuseUnknownSchemaId() {
        byte[] bytes = HexFormat.of().parseHex("0000000063" + GOLDEN.substring(10));

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
                .isExactlyInstanceOf(UnknownSchemaException.class)
                .hasMessage("schema id 99 gives no usable Avro schema: GET /schemas/ids/99 failed: HTTP 404, "
                        + "error_code 40403: Schema 99 not found")
                .extracting(e -> ((UnknownSchemaException) e).schemaId()).isEqualTo(99);
    }

    @Test
    void shouldDescribeMalformedInputAsSerializationException() {
        assertThat(new MalformedPayloadException("x")).isInstanceOf(org.apache.kafka.common.errors.SerializationException.class);
        assertThat(new UnknownSchemaException(1, null)).isInstanceOf(org.apache.kafka.common.errors.SerializationException.class);
    }
}
