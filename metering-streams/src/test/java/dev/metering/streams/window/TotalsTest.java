package dev.metering.streams.window;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class TotalsTest {

    @Test
    void shouldReadARowWrittenBeforeCacheWriteAndReasoningTokensExisted() {
        // the earlier store encoding: ten longs (the tenth the emission epoch), then the cost's bytes
        byte[] cost = BigInteger.valueOf(123_456_789L).toByteArray();
        byte[] old = ByteBuffer.allocate(80 + cost.length).putLong(3).putLong(4).putLong(100).putLong(50).putLong(7)
                .putLong(1).putLong(1_000L).putLong(2_000L).putLong(3).putLong(42).put(cost).array();

        Totals t = Totals.decode(old);

        assertThat(new long[] {t.events, t.quantity, t.inputTokens, t.outputTokens, t.cachedInputTokens, t.unpricedEvents,
                t.firstEventAt, t.lastEventAt, t.version, t.cacheWriteTokens, t.reasoningTokens})
                .containsExactly(3, 4, 100, 50, 7, 1, 1_000, 2_000, 3, 0, 0);
        assertThat(t.costFemtos).isEqualTo(BigInteger.valueOf(123_456_789L));
        assertThat(Totals.epochOf(old)).isEqualTo(42);
    }

    @Test
    void shouldKeepTheEarlierEncodingForARowWithoutCacheWriteOrReasoningTokens() {
        Totals t = new Totals();
        t.add(1_000L, 1, 10, 20, 30, 0, 0, false, BigInteger.TEN);

        byte[] encoded = t.encode(9);

        assertThat(encoded).hasSize(81);
        assertThat(encoded[0]).isZero();
        assertThat(Totals.epochOf(encoded)).isEqualTo(9);
    }

    @Test
    void shouldRoundTripCacheWriteAndReasoningTokensThroughTheStore() {
        Totals t = new Totals();
        t.add(1_000L, 1, 10, 20, 30, 40, 5, true, new BigInteger("-1234567890123456789012345"));
        t.add(2_000L, 2, 1, 2, 3, 4, 2, false, BigInteger.ONE);

        byte[] encoded = t.encode(77);
        Totals back = Totals.decode(encoded);

        assertThat(Totals.epochOf(encoded)).isEqualTo(77);
        assertThat(back.toAvro()).isEqualTo(t.toAvro());
        assertThat(back.cacheWriteTokens).isEqualTo(44);
        assertThat(back.reasoningTokens).isEqualTo(7);
        assertThat(back.unpricedEvents).isEqualTo(1);
        assertThat(back.costFemtos).isEqualTo(new BigInteger("-1234567890123456789012344"));
    }

    @Test
    void shouldEncodeExactlyAsTheStoreFormatSays() {
        Totals plain = new Totals();
        plain.add(1_000L, 1, 10, 20, 30, 0, 0, true, new BigInteger("987654321987654321987"));
        Totals v2 = new Totals();
        v2.add(-5L, 2, 11, 21, 31, 41, 6, false, BigInteger.valueOf(-3));

        byte[] cost = plain.costFemtos.toByteArray();
        assertThat(plain.encode(5)).isEqualTo(ByteBuffer.allocate(80 + cost.length).putLong(1).putLong(1).putLong(10)
                .putLong(20).putLong(30).putLong(1).putLong(1_000L).putLong(1_000L).putLong(1).putLong(5).put(cost).array());
        byte[] cost2 = v2.costFemtos.toByteArray();
        assertThat(v2.encode(Long.MAX_VALUE)).isEqualTo(ByteBuffer.allocate(97 + cost2.length).put((byte) 0xFE).putLong(1)
                .putLong(2).putLong(11).putLong(21).putLong(31).putLong(0).putLong(-5L).putLong(-5L).putLong(1)
                .putLong(Long.MAX_VALUE).putLong(41).putLong(6).put(cost2).array());
    }
}
