package dev.metering.streams.window;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Fast serializers for the two fixed output types of {@code usage.aggregates}, byte-identical to
 * the configured Avro serializer they wrap (Confluent wire format: magic byte, 4-byte schema id,
 * Avro binary). They take the aggregate stage's own row types ({@link WindowId}, {@link Totals}),
 * so no Avro object is built per emitted row; the Avro form is built only for a topic's first
 * record (the comparison below) and for what is handed to the wrapped serializer.
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
    /** 10^38: the schema's decimal holds 38 digits. */
    private static final BigInteger DECIMAL_LIMIT = BigInteger.TEN.pow(38);

    private AggregateSerdes() {
    }

    /** The key serde of a row's identity: serializes it directly, deserializes with {@code avro}. */
    public static Serde<WindowId> key(Serde<UsageWindowKey> avro) {
        return Serdes.serdeFrom(new Fast<>(avro.serializer(), WindowId::toAvro, AggregateSerdes::writeKey),
                new Mapped<>(avro.deserializer(), WindowId::fromAvro));
    }

    /** The value serde of a row's totals: serializes them directly, deserializes with {@code avro}. */
    public static Serde<Totals> totals(Serde<UsageWindowTotals> avro) {
        return Serdes.serdeFrom(new Fast<>(avro.serializer(), Totals::toAvro, AggregateSerdes::writeTotals),
                new Mapped<>(avro.deserializer(), Totals::fromAvro));
    }

    /** Writes the Avro binary body of {@code value}; false when it must go through the wrapped serializer. */
    interface Body<T> {
        boolean write(T value, Out out);
    }

    /**
     * Serializes {@code T} (a row's identity or totals) as the wrapped Avro serializer serializes its
     * Avro form {@code A}, without building the Avro object.
     */
    static final class Fast<T, A> implements Serializer<T> {
        private final Serializer<A> avro;
        private final Function<T, A> avroOf;
        private final Body<T> body;
        /** Per topic: the 5-byte wire header, or {@link #DELEGATE} when the fast body did not match. */
        private final Map<String, byte[]> headers = new ConcurrentHashMap<>();
        private static final byte[] DELEGATE = new byte[0];
        /** The last topic's entry of {@link #headers}: a sink writes one topic, so the map is rarely read. */
        private volatile TopicHeader last;
        /** A buffer per thread, reused: a record is written completely before the next one starts. */
        private final ThreadLocal<Out> buffers = ThreadLocal.withInitial(Out::new);

        private record TopicHeader(String topic, byte[] header) {
        }

        Fast(Serializer<A> avro, Function<T, A> avroOf, Body<T> body) {
            this.avro = avro;
            this.avroOf = avroOf;
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
            TopicHeader cached = last;
            byte[] header;
            if (cached != null && cached.topic().equals(topic)) {
                header = cached.header();
            } else {
                header = headers.get(topic);
                if (header != null) {
                    last = new TopicHeader(topic, header);
                }
            }
            if (header == DELEGATE) {
                return avro.serialize(topic, avroOf.apply(data));
            }
            Out out = buffers.get().reset();
            if (header == null) {
                byte[] reference = avro.serialize(topic, avroOf.apply(data));
                boolean same = reference != null && reference.length >= HEADER && body.write(data, out.header(reference))
                        && Arrays.equals(reference, out.toByteArray());
                headers.put(topic, same ? Arrays.copyOf(reference, HEADER) : DELEGATE);
                return reference;
            }
            if (!body.write(data, out.header(header))) {
                return avro.serialize(topic, avroOf.apply(data));
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

    static boolean writeKey(WindowId k, Out out) {
        out.writeLong(k.grain().ordinal());
        out.writeLong(k.size().ordinal());
        out.writeLong(k.start());
        out.writeString(k.orgId());
        out.writeString(k.userId());
        out.writeString(k.feature());
        out.writeString(k.provider());
        out.writeString(k.model());
        out.writeString(k.conversationId());
        return true;
    }

    static boolean writeTotals(Totals t, Out out) {
        BigInteger cost = t.costFemtos;
        if (cost.abs().compareTo(DECIMAL_LIMIT) >= 0) {
            return false; // beyond the schema's precision: the wrapped serializer refuses it
        }
        out.writeLong(t.events);
        out.writeLong(t.quantity);
        out.writeLong(t.inputTokens);
        out.writeLong(t.outputTokens);
        out.writeLong(t.cachedInputTokens);
        out.writeLong(t.unpricedEvents);
        out.writeAvroBytes(cost.toByteArray());
        out.writeLong(t.firstEventAt);
        out.writeLong(t.lastEventAt);
        out.writeLong(t.version);
        out.writeLong(t.cacheWriteTokens);
        out.writeLong(t.reasoningTokens);
        return true;
    }

    /** A deserializer mapping the Avro form back to the row type. */
    private record Mapped<A, T>(Deserializer<A> avro, Function<A, T> rowOf) implements Deserializer<T> {
        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            avro.configure(configs, isKey);
        }

        @Override
        public T deserialize(String topic, byte[] data) {
            A value = avro.deserialize(topic, data);
            return value == null ? null : rowOf.apply(value);
        }

        @Override
        public void close() {
            avro.close();
        }
    }

    /**
     * A growable buffer with Avro's binary primitives (not {@code ByteArrayOutputStream}: its
     * synchronized per-byte {@code write} dominated the encoding).
     */
    static final class Out {
        private byte[] buf = new byte[128];
        private int pos;

        Out reset() {
            pos = 0;
            return this;
        }

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
            int n = s.length();
            for (int i = 0; i < n; i++) {
                if (s.charAt(i) >= 0x80) {
                    writeAvroBytes(s.getBytes(UTF_8));
                    return;
                }
            }
            // ASCII: one byte per char, without the intermediate array
            writeLong(n);
            ensure(n);
            for (int i = 0; i < n; i++) {
                buf[pos++] = (byte) s.charAt(i);
            }
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
