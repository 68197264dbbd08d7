package dev.metering.streams.window;

import dev.metering.avro.UsageWindowTotals;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * The running, absolute totals of one window row. {@code version} grows by one with every event
 * folded in (the sink keeps the highest version per key). Store encoding: ten longs (the tenth is
 * the emission epoch in which the row last changed, see {@link PendingRows}) then the cost's
 * two's-complement bytes.
 */
public final class Totals {

    long events;
    long quantity;
    long inputTokens;
    long outputTokens;
    long cachedInputTokens;
    long unpricedEvents;
    long firstEventAt = Long.MAX_VALUE;
    long lastEventAt = Long.MIN_VALUE;
    long version;
    BigInteger costFemtos = BigInteger.ZERO;

    Totals() {
    }

    private Totals(long events, long quantity, long inputTokens, long outputTokens, long cachedInputTokens, long unpricedEvents,
            long firstEventAt, long lastEventAt, long version, BigInteger costFemtos) {
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
    }

    /** Folds one accepted, priced event in. */
    void add(long occurredAt, long qty, long in, long out, long cached, boolean unpriced, BigInteger femtos) {
        events++;
        quantity += qty;
        inputTokens += in;
        outputTokens += out;
        cachedInputTokens += cached;
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
                new BigDecimal(costFemtos), Instant.ofEpochMilli(firstEventAt), Instant.ofEpochMilli(lastEventAt), version);
    }

    public static Totals fromAvro(UsageWindowTotals v) {
        return new Totals(v.getEvents(), v.getQuantity(), v.getInputTokens(), v.getOutputTokens(), v.getCachedInputTokens(),
                v.getUnpricedEvents(), v.getFirstEventAt().toEpochMilli(), v.getLastEventAt().toEpochMilli(), v.getVersion(),
                v.getCostFemtos().toBigIntegerExact());
    }

    /** The store encoding, stamped with the emission epoch in which the row changed. */
    byte[] encode(long epoch) {
        byte[] cost = costFemtos.toByteArray();
        return ByteBuffer.allocate(80 + cost.length)
                .putLong(events).putLong(quantity).putLong(inputTokens).putLong(outputTokens).putLong(cachedInputTokens)
                .putLong(unpricedEvents).putLong(firstEventAt).putLong(lastEventAt).putLong(version).putLong(epoch)
                .put(cost).array();
    }

    /** The emission epoch stamped by {@link #encode(long)}. */
    static long epochOf(byte[] encoded) {
        return ByteBuffer.wrap(encoded, 72, 8).getLong();
    }

    /** The newest event time folded in; {@code Long.MIN_VALUE} for an empty row. */
    long lastEventAt() {
        return lastEventAt;
    }

    static Totals decode(byte[] bytes) {
        if (bytes.length < 81) { // ten longs and at least one byte of cost
            throw new IllegalStateException("an aggregate row of " + bytes.length + " bytes is not in this version's state "
                    + "format (80 bytes of counters and the cost): state written by an incompatible earlier version. Rebuild "
                    + "it from the events topic: stop the service, run kafka-streams-application-reset for the application id "
                    + "(or choose a new METERING_STREAMS_APPLICATION_ID) and delete METERING_STREAMS_STATE_DIR; in dev mode, "
                    + "delete .metering-dev");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long[] n = new long[9]; // the nine counters, in encode()'s order, which is the constructor's
        for (int i = 0; i < n.length; i++) {
            n[i] = b.getLong();
        }
        b.getLong(); // reserved
        byte[] cost = new byte[b.remaining()];
        b.get(cost);
        return new Totals(n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], new BigInteger(cost));
    }
}
