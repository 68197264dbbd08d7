package dev.metering.streams.window;

import dev.metering.avro.UsageWindowTotals;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;

/**
 * The running, absolute totals of one window row. {@code version} grows by one with every event
 * folded in (the sink keeps the highest version per key). Store encoding: ten longs (the tenth is
 * the emission epoch in which the row last changed, see {@link PendingRows}) then the cost's
 * two's-complement bytes; a row with cache-write or reasoning tokens is written as
 * {@code [0xFE]} + the ten longs + those two counts + the cost. The marker byte cannot start the
 * first form (its first long, the event count, is below 2^56), so rows written before the two
 * counts existed read back unchanged, with both at 0.
 */
public final class Totals {

    long events;
    long quantity;
    long inputTokens;
    long outputTokens;
    long cachedInputTokens;
    long cacheWriteTokens;
    long reasoningTokens;
    long unpricedEvents;
    long firstEventAt = Long.MAX_VALUE;
    long lastEventAt = Long.MIN_VALUE;
    long version;
    BigInteger costFemtos = BigInteger.ZERO;

    Totals() {
    }

    /** First byte of the store encoding with cache-write and reasoning tokens. */
    private static final byte WITH_V2_COUNTS = (byte) 0xFE;

    private Totals(long events, long quantity, long inputTokens, long outputTokens, long cachedInputTokens, long unpricedEvents,
            long firstEventAt, long lastEventAt, long version, BigInteger costFemtos, long cacheWriteTokens,
            long reasoningTokens) {
        this.events = events;
        this.quantity = quantity;
        this.inputTokens = inputTokens;
        this.outputTokens = outputTokens;
        this.cachedInputTokens = cachedInputTokens;
        this.unpricedEvents = unpricedEvents;
        this.firstEventAt = firstEventAt;
        this.lastEventAt = lastEventAt;
        this.version = version;
        this.costFemtos = costFemtos;
        this.cacheWriteTokens = cacheWriteTokens;
        this.reasoningTokens = reasoningTokens;
    }

    /** Folds one accepted, priced event in. */
    void add(long occurredAt, long qty, long in, long out, long cached, long cacheWrite, long reasoning, boolean unpriced,
            BigInteger femtos) {
        events++;
        quantity += qty;
        inputTokens += in;
        outputTokens += out;
        cachedInputTokens += cached;
        cacheWriteTokens += cacheWrite;
        reasoningTokens += reasoning;
        if (unpriced) {
            unpricedEvents++;
        }
        costFemtos = costFemtos.add(femtos);
        firstEventAt = Math.min(firstEventAt, occurredAt);
        lastEventAt = Math.max(lastEventAt, occurredAt);
        version++;
    }

    public UsageWindowTotals toAvro() {
        // the all-args constructor: every field is set, so the builder's per-field default and
        // validation bookkeeping (measurable at several records per event) buys nothing
        return new UsageWindowTotals(events, quantity, inputTokens, outputTokens, cachedInputTokens, unpricedEvents,
                new BigDecimal(costFemtos), Instant.ofEpochMilli(firstEventAt), Instant.ofEpochMilli(lastEventAt), version,
                cacheWriteTokens, reasoningTokens);
    }

    public static Totals fromAvro(UsageWindowTotals v) {
        return new Totals(v.getEvents(), v.getQuantity(), v.getInputTokens(), v.getOutputTokens(), v.getCachedInputTokens(),
                v.getUnpricedEvents(), v.getFirstEventAt().toEpochMilli(), v.getLastEventAt().toEpochMilli(), v.getVersion(),
                v.getCostFemtos().toBigIntegerExact(), v.getCacheWriteTokens(), v.getReasoningTokens());
    }

    /** The store encoding, stamped with the emission epoch in which the row changed. */
    byte[] encode(long epoch) {
        byte[] cost = costFemtos.toByteArray();
        boolean v2 = cacheWriteTokens != 0 || reasoningTokens != 0;
        // written in place (big-endian, as ByteBuffer would): a row is encoded at every event
        byte[] b = new byte[(v2 ? 97 : 80) + cost.length];
        int at = 0;
        if (v2) {
            b[at++] = WITH_V2_COUNTS;
        }
        at = put(b, at, events);
        at = put(b, at, quantity);
        at = put(b, at, inputTokens);
        at = put(b, at, outputTokens);
        at = put(b, at, cachedInputTokens);
        at = put(b, at, unpricedEvents);
        at = put(b, at, firstEventAt);
        at = put(b, at, lastEventAt);
        at = put(b, at, version);
        at = put(b, at, epoch);
        if (v2) {
            at = put(b, at, cacheWriteTokens);
            at = put(b, at, reasoningTokens);
        }
        System.arraycopy(cost, 0, b, at, cost.length);
        return b;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private static int put(byte[] b, int at, long v) {
        LONGS.set(b, at, v);
        return at + 8;
    }

    /** The emission epoch stamped by {@link #encode(long)}. */
    static long epochOf(byte[] encoded) {
        return ByteBuffer.wrap(encoded, encoded[0] == WITH_V2_COUNTS ? 73 : 72, 8).getLong();
    }

    /** The {@code version} of a row stored by {@link #encode(long)}, without decoding the rest. */
    static long versionOf(byte[] encoded) {
        return ByteBuffer.wrap(encoded, encoded[0] == WITH_V2_COUNTS ? 65 : 64, 8).getLong();
    }

    /** {@link #lastEventAt()} of a row stored by {@link #encode(long)}, without decoding the rest. */
    static long lastEventAtOf(byte[] encoded) {
        return ByteBuffer.wrap(encoded, encoded[0] == WITH_V2_COUNTS ? 57 : 56, 8).getLong();
    }

    /** The newest event time folded in; {@code Long.MIN_VALUE} for an empty row. */
    long lastEventAt() {
        return lastEventAt;
    }

    static Totals decode(byte[] bytes) {
        boolean v2 = bytes.length > 0 && bytes[0] == WITH_V2_COUNTS;
        if (bytes.length < (v2 ? 98 : 81)) { // the longs and at least one byte of cost
            throw new IllegalStateException("an aggregate row of " + bytes.length + " bytes is not in this version's state "
                    + "format (80 bytes of counters and the cost): state written by an incompatible earlier version. Rebuild "
                    + "it from the events topic: stop the service, run kafka-streams-application-reset for the application id "
                    + "(or choose a new METERING_STREAMS_APPLICATION_ID) and delete METERING_STREAMS_STATE_DIR; in dev mode, "
                    + "delete .metering-dev");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, v2 ? 1 : 0, bytes.length - (v2 ? 1 : 0));
        long[] n = new long[9]; // the nine counters, in encode()'s order, which is the constructor's
        for (int i = 0; i < n.length; i++) {
            n[i] = b.getLong();
        }
        b.getLong(); // the emission epoch
        long cacheWrite = v2 ? b.getLong() : 0;
        long reasoning = v2 ? b.getLong() : 0;
        byte[] cost = new byte[b.remaining()];
        b.get(cost);
        return new Totals(n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], new BigInteger(cost), cacheWrite, reasoning);
    }
}
