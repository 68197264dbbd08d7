package dev.metering.streams.validate;

import dev.metering.avro.UsageEvent;
import dev.metering.events.registry.SchemaRegistryClient;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Decodes {@code UsageEvent} values written with exactly this build's schema directly, field by
 * field in the schema's order, and hands everything else to the configured Avro deserializer.
 *
 * <p>Why: every input record is decoded, and the generic reader resolves writer to reader schema
 * through a parser per field even when both are the same schema, the common case.
 *
 * <p>Safety: the direct path is taken only for a schema id whose registered schema equals
 * {@link UsageEvent#SCHEMA$} (same fields, types, defaults and properties), and only its
 * successes are used: a payload it cannot decode completely (truncated, a bad union index,
 * trailing bytes) goes to the wrapped deserializer, which refuses it with its own typed error,
 * as does a schema look-up that fails. Thread-safe.
 */
public final class UsageEventDecoder implements Deserializer<UsageEvent> {

    private static final int HEADER = 5;

    private final SchemaRegistryClient client;
    private final Deserializer<UsageEvent> avro;
    /** Per schema id: whether it is this build's schema. */
    private final Map<Integer, Boolean> same = new ConcurrentHashMap<>();

    public UsageEventDecoder(SchemaRegistryClient client, Deserializer<UsageEvent> avro) {
        this.client = client;
        this.avro = avro;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        avro.configure(configs, isKey);
    }

    @Override
    public UsageEvent deserialize(String topic, byte[] data) {
        if (data != null && data.length > HEADER && data[0] == 0 && isSame(schemaId(data))) {
            UsageEvent event = decode(data);
            if (event != null) {
                return event;
            }
        }
        return avro.deserialize(topic, data);
    }

    /** True when {@code data}'s schema id takes the direct path (tests). */
    boolean direct(byte[] data) {
        return isSame(schemaId(data));
    }

    private boolean isSame(int schemaId) {
        Boolean known = same.get(schemaId);
        if (known == null) {
            try {
                known = UsageEvent.SCHEMA$.equals(client.getSchemaById(schemaId));
            } catch (RuntimeException e) {
                return false; // the wrapped deserializer looks it up again and reports the failure
            }
            same.put(schemaId, known);
        }
        return known;
    }

    /** The event, or null when the body is not one complete record of the schema. */
    static UsageEvent decode(byte[] data) {
        BinaryDecoder in = DecoderFactory.get().binaryDecoder(data, HEADER, data.length - HEADER, null);
        try {
            String eventId = in.readString();
            String orgId = in.readString();
            Instant occurredAt = Instant.ofEpochMilli(in.readLong());
            String feature = in.readString();
            String userId = optionalString(in);
            String conversationId = optionalString(in);
            String provider = optionalString(in);
            String model = optionalString(in);
            String source = optionalString(in);
            long quantity = in.readLong();
            long inputTokens = in.readLong();
            long outputTokens = in.readLong();
            long cachedInputTokens = in.readLong();
            Long costNanos = switch (in.readIndex()) {
                case 0 -> null;
                case 1 -> in.readLong();
                default -> throw new IOException("union index out of range");
            };
            Map<String, String> attributes = new HashMap<>();
            for (long n = in.readMapStart(); n != 0; n = in.mapNext()) {
                for (long i = 0; i < n; i++) {
                    String key = in.readString();
                    attributes.put(key, in.readString());
                }
            }
            long cacheWriteTokens = in.readLong();
            long reasoningTokens = in.readLong();
            String serviceTier = optionalString(in);
            if (!in.isEnd()) {
                return null;
            }
            return new UsageEvent(eventId, orgId, occurredAt, feature, userId, conversationId, provider, model, source, quantity,
                    inputTokens, outputTokens, cachedInputTokens, costNanos, attributes, cacheWriteTokens, reasoningTokens,
                    serviceTier);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String optionalString(BinaryDecoder in) throws IOException {
        return switch (in.readIndex()) {
            case 0 -> null;
            case 1 -> in.readString();
            default -> throw new IOException("union index out of range");
        };
    }

    private static int schemaId(byte[] data) {
        return ((data[1] & 0xff) << 24) | ((data[2] & 0xff) << 16) | ((data[3] & 0xff) << 8) | (data[4] & 0xff);
    }

    @Override
    public void close() {
        avro.close();
    }
}
