package dev.metering.streams;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Internal headers that carry an {@link Origin} through the re-keying repartition topic: a
 * record whose key is not its orgId is re-keyed, and must still reach the dead-letter topic with
 * its original key and coordinates if a later stage refuses it. They never reach an output topic.
 */
public final class OriginHeaders {

    static final String KEY = "metering.origin.key";
    static final String TOPIC = "metering.origin.topic";
    static final String PARTITION = "metering.origin.partition";
    static final String OFFSET = "metering.origin.offset";
    static final String TIMESTAMP = "metering.origin.timestamp";

    private OriginHeaders() {
    }

    /** Writes the origin (except the value, which travels as the record value) into the headers. */
    public static void write(Headers headers, Origin origin) {
        strip(headers);
        if (origin.key() != null) {
            headers.add(KEY, origin.key());
        }
        headers.add(TOPIC, origin.topic().getBytes(UTF_8));
        headers.add(PARTITION, ByteBuffer.allocate(4).putInt(origin.partition()).array());
        headers.add(OFFSET, ByteBuffer.allocate(8).putLong(origin.offset()).array());
        headers.add(TIMESTAMP, ByteBuffer.allocate(8).putLong(origin.timestamp()).array());
    }

    /** Reads an origin written by {@link #write}, or null when the headers carry none; strips them. */
    public static Origin read(Headers headers, byte[] value) {
        Header topic = headers.lastHeader(TOPIC);
        if (topic == null) {
            return null;
        }
        Header key = headers.lastHeader(KEY);
        Origin origin = new Origin(
                key == null ? null : key.value(),
                value,
                new String(topic.value(), UTF_8),
                ByteBuffer.wrap(headers.lastHeader(PARTITION).value()).getInt(),
                ByteBuffer.wrap(headers.lastHeader(OFFSET).value()).getLong(),
                ByteBuffer.wrap(headers.lastHeader(TIMESTAMP).value()).getLong());
        strip(headers);
        return origin;
    }

    /** Removes every internal origin header. */
    public static void strip(Headers headers) {
        headers.remove(KEY);
        headers.remove(TOPIC);
        headers.remove(PARTITION);
        headers.remove(OFFSET);
        headers.remove(TIMESTAMP);
    }
}
