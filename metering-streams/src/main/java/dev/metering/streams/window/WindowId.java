package dev.metering.streams.window;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.kafka.common.utils.Bytes;

/**
 * The identity of one aggregate row, with a binary store encoding that sorts by (size,
 * windowStart) first, so that expired windows are one range scan per size:
 * {@code [size:1][windowStart:8 big-endian][grain:1]} then orgId, userId, feature, provider,
 * model, each as {@code [length:4][UTF-8]}, and for the CONVERSATION grain (size LIFETIME, start
 * 0) the conversationId last. Absent dimensions are empty strings.
 */
public record WindowId(WindowSize size, long start, WindowGrain grain, String orgId, String userId, String feature,
        String provider, String model, String conversationId) {

    public static final long HOUR_MS = 3_600_000L;
    public static final long DAY_MS = 86_400_000L;

    /** The length of an HOUR or DAY window. */
    public static long lengthOf(WindowSize size) {
        return switch (size) {
            case HOUR -> HOUR_MS;
            case DAY -> DAY_MS;
            case LIFETIME -> throw new IllegalArgumentException("a LIFETIME row has no window length");
        };
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
        return encode(size, start, grain, orgId.getBytes(UTF_8), userId.getBytes(UTF_8), feature.getBytes(UTF_8),
                provider.getBytes(UTF_8), model.getBytes(UTF_8), conversationId.getBytes(UTF_8));
    }

    private static Bytes encode(WindowSize size, long start, WindowGrain grain, byte[] o, byte[] u, byte[] f, byte[] p, byte[] m,
            byte[] c) {
        // only CONVERSATION keys carry the conversation, so DETAIL and ORG keys are those of earlier versions' state
        boolean conversation = grain == WindowGrain.CONVERSATION;
        ByteBuffer b = ByteBuffer.allocate(10 + 20 + o.length + u.length + f.length + p.length + m.length
                + (conversation ? 4 + c.length : 0));
        b.put((byte) size.ordinal()).putLong(start).put((byte) grain.ordinal());
        b.putInt(o.length).put(o).putInt(u.length).put(u).putInt(f.length).put(f).putInt(p.length).put(p).putInt(m.length).put(m);
        if (conversation) {
            b.putInt(c.length).put(c);
        }
        return Bytes.wrap(b.array());
    }

    /** A row's identity with its encoded key. */
    public record Keyed(WindowId id, Bytes key) {
    }

    /**
     * The dimensions of one event, UTF-8 encoded once for the rows it is folded into.
     */
    public static final class Dimensions {
        private static final byte[] EMPTY = new byte[0];

        private final String orgId;
        private final String userId;
        private final String feature;
        private final String provider;
        private final String model;
        private final String conversationId;
        private final byte[] o;
        private final byte[] u;
        private final byte[] f;
        private final byte[] p;
        private final byte[] m;
        private final byte[] c;

        private Dimensions(String orgId, String userId, String feature, String provider, String model, String conversationId) {
            this.orgId = orgId;
            this.userId = userId;
            this.feature = feature;
            this.provider = provider;
            this.model = model;
            this.conversationId = conversationId;
            this.o = orgId.getBytes(UTF_8);
            this.u = userId.getBytes(UTF_8);
            this.f = feature.getBytes(UTF_8);
            this.p = provider.getBytes(UTF_8);
            this.m = model.getBytes(UTF_8);
            this.c = conversationId.getBytes(UTF_8);
        }

        /** Absent dimensions are empty strings. */
        public static Dimensions of(String orgId, String userId, String feature, String provider, String model,
                String conversationId) {
            return new Dimensions(orgId, userId, feature, provider, model, conversationId);
        }

        /** True when the event names a conversation (it then has a CONVERSATION row). */
        public boolean hasConversation() {
            return !conversationId.isEmpty();
        }

        /** The DETAIL row (org, user, feature, provider, model) of the {@code size} window starting at {@code start}. */
        public Keyed detail(WindowSize size, long start) {
            return new Keyed(new WindowId(size, start, WindowGrain.DETAIL, orgId, userId, feature, provider, model, ""),
                    encode(size, start, WindowGrain.DETAIL, o, u, f, p, m, EMPTY));
        }

        /** The ORG row (org, feature) of the {@code size} window starting at {@code start}. */
        public Keyed org(WindowSize size, long start) {
            return new Keyed(new WindowId(size, start, WindowGrain.ORG, orgId, "", feature, "", "", ""),
                    encode(size, start, WindowGrain.ORG, o, EMPTY, f, EMPTY, EMPTY, EMPTY));
        }

        /** The CONVERSATION row (org, conversation, feature): no window, start 0. */
        public Keyed conversation() {
            return new Keyed(new WindowId(WindowSize.LIFETIME, 0L, WindowGrain.CONVERSATION, orgId, "", feature, "", "",
                    conversationId), encode(WindowSize.LIFETIME, 0L, WindowGrain.CONVERSATION, o, EMPTY, f, EMPTY, EMPTY, c));
        }
    }

    public static WindowId decode(Bytes bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes.get());
        WindowSize size = WindowSize.values()[b.get()];
        long start = b.getLong();
        WindowGrain grain = WindowGrain.values()[b.get()];
        return new WindowId(size, start, grain, str(b), str(b), str(b), str(b), str(b),
                grain == WindowGrain.CONVERSATION ? str(b) : "");
    }

    /** The smallest possible encoding prefix of a {@code size} window starting at {@code start}. */
    static Bytes prefix(WindowSize size, long start) {
        return Bytes.wrap(ByteBuffer.allocate(9).put((byte) size.ordinal()).putLong(start).array());
    }

    public UsageWindowKey toAvro() {
        // all-args constructor (every field set; see Totals#toAvro)
        return new UsageWindowKey(grain, size, Instant.ofEpochMilli(start), orgId, userId, feature, provider, model, conversationId);
    }

    public static WindowId fromAvro(UsageWindowKey k) {
        return new WindowId(k.getSize(), k.getWindowStart().toEpochMilli(), k.getGrain(), k.getOrgId(), k.getUserId(),
                k.getFeature(), k.getProvider(), k.getModel(), k.getConversationId());
    }

    private static String str(ByteBuffer b) {
        byte[] s = new byte[b.getInt()];
        b.get(s);
        return new String(s, UTF_8);
    }
}
