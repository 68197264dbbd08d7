package dev.metering.streams.window;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.kafka.common.utils.Bytes;

/**
 * The identity of one aggregate window row, with a binary store encoding that sorts by (size,
 * windowStart) first, so that expired windows are one range scan per size:
 * {@code [size:1][windowStart:8 big-endian][grain:1]} then orgId, userId, feature, provider,
 * model, each as {@code [length:4][UTF-8]}. Absent dimensions are empty strings.
 */
public record WindowId(WindowSize size, long start, WindowGrain grain, String orgId, String userId, String feature,
        String provider, String model) {

    public static final long HOUR_MS = 3_600_000L;
    public static final long DAY_MS = 86_400_000L;

    public static long lengthOf(WindowSize size) {
        return size == WindowSize.HOUR ? HOUR_MS : DAY_MS;
    }

    /** The UTC-aligned start of the {@code size} window holding {@code epochMillis}. */
    public static long startOf(WindowSize size, long epochMillis) {
        long len = lengthOf(size);
        return Math.floorDiv(epochMillis, len) * len;
    }

    public long end() {
        return start + lengthOf(size);
    }

    public Bytes encode() {
        byte[] o = orgId.getBytes(UTF_8);
        byte[] u = userId.getBytes(UTF_8);
        byte[] f = feature.getBytes(UTF_8);
        byte[] p = provider.getBytes(UTF_8);
        byte[] m = model.getBytes(UTF_8);
        ByteBuffer b = ByteBuffer.allocate(10 + 20 + o.length + u.length + f.length + p.length + m.length);
        b.put((byte) size.ordinal()).putLong(start).put((byte) grain.ordinal());
        for (byte[] s : new byte[][] {o, u, f, p, m}) {
            b.putInt(s.length).put(s);
        }
        return Bytes.wrap(b.array());
    }

    public static WindowId decode(Bytes bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes.get());
        WindowSize size = WindowSize.values()[b.get()];
        long start = b.getLong();
        WindowGrain grain = WindowGrain.values()[b.get()];
        return new WindowId(size, start, grain, str(b), str(b), str(b), str(b), str(b));
    }

    /** The smallest possible encoding prefix of a {@code size} window starting at {@code start}. */
    static Bytes prefix(WindowSize size, long start) {
        return Bytes.wrap(ByteBuffer.allocate(9).put((byte) size.ordinal()).putLong(start).array());
    }

    public UsageWindowKey toAvro() {
        // all-args constructor (every field set; see Totals#toAvro)
        return new UsageWindowKey(grain, size, Instant.ofEpochMilli(start), orgId, userId, feature, provider, model);
    }

    private static String str(ByteBuffer b) {
        byte[] s = new byte[b.getInt()];
        b.get(s);
        return new String(s, UTF_8);
    }
}
