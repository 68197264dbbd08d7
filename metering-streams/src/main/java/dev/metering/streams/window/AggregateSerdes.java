package dev.metering.streams.window;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Fast serializers for the two fixed output types of {@code usage.aggregates}, byte-identical to
 * the configured Avro serializer they wrap (Confluent wire format: magic byte, 4-byte schema id,
 * Avro binary).
 *
 * <p>Why: the aggregate stage emits several records per event, and the generic path (schema id
 * look-up and writer look-up per record, {@code SpecificDatumWriter} with logical-type
 * conversions) was the largest single cost of the stream thread. Here the wire header is taken
 * from the wrapped serializer's first output for a topic (so registration, subject naming and
 * registry errors stay exactly its own), and the Avro binary body is written directly: zig-zag
 * varint longs, enum ordinals, length-prefixed UTF-8 strings, the decimal's two's-complement
 * bytes, timestamps as epoch millis.
 *
 * <p>Safety: for each topic the first record is encoded both ways and compared; on any
 * difference this serializer permanently delegates to the wrapped one. A cost beyond the
 * schema's decimal precision (38 digits) is also handed to the wrapped serializer, which refuses
 * it exactly as before. Note: the schema id is resolved once per topic and process (as
 * Confluent's serializer caches it); a changed registration is seen at the next start.
 */
public final class AggregateSerdes {

    private static final int HEADER = 5;
    private static final int DECIMAL_PRECISION = 38;

    private AggregateSerdes() {
    }

    /** The key serde: serializes fast, deserializes with {@code avro}. */
    public static Serde<UsageWindowKey> key(Serde<UsageWindowKey> avro) {
        return Serdes.serdeFrom(new Fast<>(avro.serializer(), AggregateSerdes::writeKey), avro.deserializer());
    }

    /** The value serde: serializes fast, deserializes with {@code avro}. */
    public static Serde<UsageWindowTotals> totals(Serde<UsageWindowTotals> avro) {
        return Serdes.serdeFrom(new Fast<>(avro.serializer(), AggregateSerdes::writeTotals), avro.deserializer());
    }

    /** Writes the Avro binary body of {@code value}; false when it must go through the wrapped serializer. */
    interface Body<T> {
        boolean write(T value, Out out);
    }

    static final class Fast<T> implements Serializer<T> {
        private final Serializer<T> avro;
        private final Body<T> body;
        /** Per topic: the 5-byte wire header, or {@link #DELEGATE} when the fast body did not match. */
        private final Map<String, byte[]> headers = new ConcurrentHashMap<>();
        private static final byte[] DELEGATE = new byte[0];

        Fast(Serializer<T> avro, Body<T> body) {
            this.avro = avro;
            this.body = body;
        }

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            avro.configure(configs, isKey);
        }

        @Override
        public byte[] serialize(String topic, T data) {
            if (data == null) {
                return avro.serialize(topic, null);
            }
            byte[] header = headers.get(topic);
            if (header == DELEGATE) {
                return avro.serialize(topic, data);
            }
            Out out = new Out();
            if (header == null) {
                byte[] reference = avro.serialize(topic, data);
                boolean same = reference != null && reference.length >= HEADER && body.write(data, out.header(reference))
                        && Arrays.equals(reference, out.toByteArray());
                headers.put(topic, same ? Arrays.copyOf(reference, HEADER) : DELEGATE);
                return reference;
            }
            if (!body.write(data, out.header(header))) {
                return avro.serialize(topic, data);
            }
            return out.toByteArray();
        }

        /** True once {@code topic}'s header is known and the direct encoding matched (tests). */
        boolean direct(String topic) {
            byte[] header = headers.get(topic);
            return header != null && header != DELEGATE;
        }

        @Override
        public void close() {
            avro.close();
        }
    }

    static boolean writeKey(UsageWindowKey k, Out out) {
        out.writeLong(k.getGrain().ordinal());
        out.writeLong(k.getSize().ordinal());
        out.writeLong(k.getWindowStart().toEpochMilli());
        out.writeString(k.getOrgId());
        out.writeString(k.getUserId());
        out.writeString(k.getFeature());
        out.writeString(k.getProvider());
        out.writeString(k.getModel());
        return true;
    }

    static boolean writeTotals(UsageWindowTotals t, Out out) {
        BigDecimal cost = t.getCostFemtos();
        if (cost.scale() != 0 || cost.precision() > DECIMAL_PRECISION) {
            return false; // the wrapped serializer decides (it refuses what the schema cannot hold)
        }
        out.writeLong(t.getEvents());
        out.writeLong(t.getQuantity());
        out.writeLong(t.getInputTokens());
        out.writeLong(t.getOutputTokens());
        out.writeLong(t.getCachedInputTokens());
        out.writeLong(t.getUnpricedEvents());
        out.writeAvroBytes(cost.unscaledValue().toByteArray());
        out.writeLong(t.getFirstEventAt().toEpochMilli());
        out.writeLong(t.getLastEventAt().toEpochMilli());
        out.writeLong(t.getVersion());
        return true;
    }

    /**
     * A growable buffer with Avro's binary primitives (not {@code ByteArrayOutputStream}: its
     * synchronized per-byte {@code write} dominated the encoding).
     */
    static final class Out {
        private byte[] buf = new byte[128];
        private int pos;

        Out header(byte[] wire) {
            ensure(HEADER);
            System.arraycopy(wire, 0, buf, pos, HEADER);
            pos += HEADER;
            return this;
        }

        void writeLong(long n) {
            ensure(10);
            long v = (n << 1) ^ (n >> 63); // zig-zag
            while ((v & ~0x7FL) != 0) {
                buf[pos++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            buf[pos++] = (byte) v;
        }

        void writeAvroBytes(byte[] b) {
            writeLong(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, buf, pos, b.length);
            pos += b.length;
        }

        void writeString(String s) {
            writeAvroBytes(s.getBytes(UTF_8));
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, pos);
        }

        private void ensure(int n) {
            if (pos + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
            }
        }
    }
}
