package dev.metering.streams.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class AggregateSerdesTest {

    private static final String TOPIC = "metering.usage.aggregates";

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final Serde<UsageWindowKey> avroKey = AvroSerdes.specific(UsageWindowKey.class, registry, Map.of(), true);
    private final Serde<UsageWindowTotals> avroTotals = AvroSerdes.specific(UsageWindowTotals.class, registry, Map.of(), false);

    @Test
    void keysAreByteIdenticalToTheAvroSerializer() {
        Serde<WindowId> fast = AggregateSerdes.key(avroKey);
        List<WindowId> keys = List.of(
                new WindowId(WindowSize.HOUR, 1_700_000_000_000L, WindowGrain.DETAIL, "org-1", "user-1", "AI_COMPLETION", "openai",
                        "gpt-4o", ""),
                new WindowId(WindowSize.DAY, 0L, WindowGrain.ORG, "o", "", "CHAT_MESSAGE", "", "", ""),
                new WindowId(WindowSize.HOUR, -3_600_000L, WindowGrain.DETAIL, "ørg/ü€𝄞", "ユーザー", "f", "p", "m".repeat(300), ""),
                new WindowId(WindowSize.DAY, Long.MAX_VALUE / 2, WindowGrain.ORG, "x", "", "y", "", "", ""),
                new WindowId(WindowSize.LIFETIME, 0L, WindowGrain.CONVERSATION, "org-1", "", "CHAT_MESSAGE", "", "", "conv-ü€𝄞"));
        for (WindowId k : keys) {
            byte[] bytes = fast.serializer().serialize(TOPIC, k);
            assertThat(bytes).isEqualTo(avroKey.serializer().serialize(TOPIC, k.toAvro()));
            assertThat(avroKey.deserializer().deserialize(TOPIC, bytes)).isEqualTo(k.toAvro());
            assertThat(fast.deserializer().deserialize(TOPIC, bytes)).isEqualTo(k);
        }
        assertThat(((AggregateSerdes.Fast<?, ?>) fast.serializer()).direct(TOPIC)).isTrue();
    }

    @Test
    void totalsAreByteIdenticalToTheAvroSerializer() {
        Serde<Totals> fast = AggregateSerdes.totals(avroTotals);
        List<BigInteger> costs = List.of(BigInteger.ZERO, BigInteger.ONE, BigInteger.valueOf(-1), BigInteger.valueOf(127),
                BigInteger.valueOf(128), BigInteger.valueOf(255), BigInteger.valueOf(256), BigInteger.valueOf(-129),
                new BigInteger("123456789012345678901234567890"), BigInteger.TEN.pow(38).subtract(BigInteger.ONE),
                BigInteger.TEN.pow(38).subtract(BigInteger.ONE).negate());
        long[] longs = {0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, Integer.MAX_VALUE, Long.MAX_VALUE, Long.MIN_VALUE};
        for (BigInteger cost : costs) {
            for (long n : longs) {
                Totals t = new Totals();
                t.events = n;
                t.quantity = -n;
                t.inputTokens = n / 3;
                t.outputTokens = n / 7;
                t.cachedInputTokens = 5;
                t.cacheWriteTokens = n / 5;
                t.reasoningTokens = n / 11;
                t.unpricedEvents = n == Long.MIN_VALUE ? 0 : Math.abs(n) / 2;
                t.firstEventAt = 1_700_000_000_123L;
                t.lastEventAt = 1_700_000_999_456L;
                t.version = n;
                t.costFemtos = cost;
                UsageWindowTotals v = t.toAvro();
                byte[] bytes = fast.serializer().serialize(TOPIC, t);
                assertThat(bytes).isEqualTo(avroTotals.serializer().serialize(TOPIC, v));
                assertThat(avroTotals.deserializer().deserialize(TOPIC, bytes)).isEqualTo(v);
                assertThat(fast.deserializer().deserialize(TOPIC, bytes).toAvro()).isEqualTo(v);
            }
        }
        assertThat(((AggregateSerdes.Fast<?, ?>) fast.serializer()).direct(TOPIC)).isTrue();
    }

    @Test
    void aCostBeyondTheSchemaPrecisionIsRefusedByTheAvroSerializerAsBefore() {
        Serde<Totals> fast = AggregateSerdes.totals(avroTotals);
        Totals t = new Totals();
        t.firstEventAt = 0;
        t.lastEventAt = 0;
        fast.serializer().serialize(TOPIC, t); // the first record of the topic fixes the header
        for (BigInteger tooBig : List.of(BigInteger.TEN.pow(38), BigInteger.TEN.pow(38).negate())) {
            t.costFemtos = tooBig;
            UsageWindowTotals avro = t.toAvro();
            Throwable expected = catchFrom(() -> avroTotals.serializer().serialize(TOPIC, avro));
            assertThat(expected).isNotNull();
            assertThatThrownBy(() -> fast.serializer().serialize(TOPIC, t)).isInstanceOf(expected.getClass());
        }
    }

    @Test
    void nullStaysNull() {
        assertThat(AggregateSerdes.key(avroKey).serializer().serialize(TOPIC, null)).isNull();
        assertThat(AggregateSerdes.totals(avroTotals).serializer().serialize(TOPIC, null)).isNull();
        assertThat(AggregateSerdes.key(avroKey).deserializer().deserialize(TOPIC, null)).isNull();
    }

    private static Throwable catchFrom(Runnable r) {
        try {
            r.run();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }
}
