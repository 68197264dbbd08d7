package dev.metering.sink;

import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.events.DeadLetterHeaders;
import dev.metering.events.serde.MalformedPayloadException;
import dev.metering.events.serde.UnknownSchemaException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Turns a {@link Batch} of raw records into a {@link PreparedBatch}: aggregates decoded and
 * collapsed to the newest version per window key, dead letters parsed from their headers.
 *
 * <p>An aggregate that does not decode is not retried forever: it becomes a dead letter
 * ({@code MALFORMED} or {@code UNKNOWN_SCHEMA}, stage {@code sink}). A schema registry that cannot
 * be reached is not the record's fault: that throws {@link TransientException} and the batch is
 * retried.
 */
final class RecordDecoder {

    static final String STAGE = "sink";
    /** The reason stored when a dead letter carries no reason header. */
    static final String UNSPECIFIED_REASON = "UNSPECIFIED";

    /** Orders updates by their primary key, for a fixed lock order. */
    static final Comparator<WindowUpdate> KEY_ORDER = RecordDecoder::compareKeys;

    /**
     * (grain, size, org, window start, user, feature, provider, model, conversation), written out:
     * every batch of a few thousand keys is sorted, and chained comparators are much slower.
     */
    static int compareKeys(WindowUpdate a, WindowUpdate b) {
        UsageWindowKey x = a.key();
        UsageWindowKey y = b.key();
        int c = x.getGrain().compareTo(y.getGrain());
        if (c == 0) {
            c = x.getSize().compareTo(y.getSize());
        }
        if (c == 0) {
            c = x.getOrgId().compareTo(y.getOrgId());
        }
        if (c == 0) {
            c = x.getWindowStart().compareTo(y.getWindowStart());
        }
        if (c == 0) {
            c = x.getUserId().compareTo(y.getUserId());
        }
        if (c == 0) {
            c = x.getFeature().compareTo(y.getFeature());
        }
        if (c == 0) {
            c = x.getProvider().compareTo(y.getProvider());
        }
        if (c == 0) {
            c = x.getModel().compareTo(y.getModel());
        }
        if (c == 0) {
            c = x.getConversationId().compareTo(y.getConversationId());
        }
        return c;
    }

    private final String aggregatesTopic;
    private final String deadLetterTopic;
    private final Deserializer<UsageWindowKey> keyDeserializer;
    private final Deserializer<UsageWindowTotals> totalsDeserializer;
    private final Deserializer<UsageEvent> eventDeserializer;
    private final String pricedTopic;
    private final Deserializer<PricedUsageEvent> pricedDeserializer;

    RecordDecoder(String aggregatesTopic, String deadLetterTopic, Deserializer<UsageWindowKey> keyDeserializer,
                  Deserializer<UsageWindowTotals> totalsDeserializer, Deserializer<UsageEvent> eventDeserializer) {
        this(aggregatesTopic, deadLetterTopic, keyDeserializer, totalsDeserializer, eventDeserializer, null, null);
    }

    /** With the event log: {@code pricedTopic} records are decoded into the batch's events. */
    RecordDecoder(String aggregatesTopic, String deadLetterTopic, Deserializer<UsageWindowKey> keyDeserializer,
                  Deserializer<UsageWindowTotals> totalsDeserializer, Deserializer<UsageEvent> eventDeserializer,
                  String pricedTopic, Deserializer<PricedUsageEvent> pricedDeserializer) {
        this.pricedTopic = pricedTopic;
        this.pricedDeserializer = pricedDeserializer;
        this.aggregatesTopic = Objects.requireNonNull(aggregatesTopic);
        this.deadLetterTopic = Objects.requireNonNull(deadLetterTopic);
        this.keyDeserializer = Objects.requireNonNull(keyDeserializer);
        this.totalsDeserializer = Objects.requireNonNull(totalsDeserializer);
        this.eventDeserializer = Objects.requireNonNull(eventDeserializer);
    }

    PreparedBatch prepare(Batch batch) {
        Map<UsageWindowKey, WindowUpdate> newest = new HashMap<>();
        List<DeadLetterRow> deadLetters = new ArrayList<>();
        List<PricedUsageEvent> events = new ArrayList<>();
        Map<TopicPartition, Instant> newestEventAt = new HashMap<>();
        int decoded = 0;
        for (ConsumerRecord<byte[], byte[]> record : batch.records()) {
            if (record.topic().equals(aggregatesTopic)) {
                Object result = decodeAggregate(record);
                if (result instanceof WindowUpdate update) {
                    decoded++;
                    // the highest version of a key wins; on a tie the later record (same totals)
                    newest.merge(update.key(), update, (a, b) -> b.version() >= a.version() ? b : a);
                    newestEventAt.merge(update.source(), update.totals().getLastEventAt(),
                            (a, b) -> a.isAfter(b) ? a : b);
                } else {
                    deadLetters.add((DeadLetterRow) result);
                }
            } else if (record.topic().equals(deadLetterTopic)) {
                deadLetters.add(parseDeadLetter(record));
            } else if (record.topic().equals(pricedTopic)) {
                Object result = decodePriced(record);
                if (result instanceof PricedUsageEvent event) {
                    events.add(event);
                } else {
                    deadLetters.add((DeadLetterRow) result);
                }
            }
        }
        List<WindowUpdate> updates = new ArrayList<>(newest.values());
        updates.sort(KEY_ORDER);
        Map<TopicPartition, PreparedBatch.Progress> progress = new HashMap<>();
        batch.nextOffsets().forEach((tp, next) ->
                progress.put(tp, new PreparedBatch.Progress(next, newestEventAt.get(tp))));
        return new PreparedBatch(List.copyOf(updates), decoded - updates.size(), List.copyOf(deadLetters), List.copyOf(events),
                Map.copyOf(progress), batch.size());
    }

    /** A {@link WindowUpdate}, or a {@link DeadLetterRow} when the record cannot be decoded. */
    private Object decodeAggregate(ConsumerRecord<byte[], byte[]> record) {
        try {
            if (record.key() == null || record.value() == null) {
                throw new MalformedPayloadException("aggregate record without " + (record.key() == null ? "key" : "value"));
            }
            UsageWindowKey key = keyDeserializer.deserialize(record.topic(), record.headers(), record.key());
            UsageWindowTotals totals = totalsDeserializer.deserialize(record.topic(), record.headers(), record.value());
            return new WindowUpdate(key, totals, new TopicPartition(record.topic(), record.partition()),
                    record.offset(), record.timestamp(), record.key(), record.value());
        } catch (UnknownSchemaException e) {
            return sinkDeadLetter(record, DeadLetterHeaders.Reason.UNKNOWN_SCHEMA.name(), e.getMessage());
        } catch (RuntimeException e) {
            if (Failures.isRegistryUnavailable(e)) {
                throw new TransientException("schema registry unavailable while decoding "
                        + record.topic() + "-" + record.partition() + "@" + record.offset(), e);
            }
            return sinkDeadLetter(record, DeadLetterHeaders.Reason.MALFORMED.name(), String.valueOf(e.getMessage()));
        }
    }

    /** A {@link PricedUsageEvent}, or a {@link DeadLetterRow} when the record cannot be decoded. */
    private Object decodePriced(ConsumerRecord<byte[], byte[]> record) {
        try {
            if (record.value() == null) {
                throw new MalformedPayloadException("priced event record without value");
            }
            return pricedDeserializer.deserialize(record.topic(), record.headers(), record.value());
        } catch (UnknownSchemaException e) {
            return sinkDeadLetter(record, DeadLetterHeaders.Reason.UNKNOWN_SCHEMA.name(), e.getMessage());
        } catch (RuntimeException e) {
            if (Failures.isRegistryUnavailable(e)) {
                throw new TransientException("schema registry unavailable while decoding "
                        + record.topic() + "-" + record.partition() + "@" + record.offset(), e);
            }
            return sinkDeadLetter(record, DeadLetterHeaders.Reason.MALFORMED.name(), String.valueOf(e.getMessage()));
        }
    }

    /** A record read by the sink that it refuses itself (stage {@code sink}). */
    static DeadLetterRow sinkDeadLetter(ConsumerRecord<byte[], byte[]> record, String reason, String message) {
        return new DeadLetterRow(reason, message, STAGE, record.topic(), record.partition(), record.offset(),
                timestampOf(record), record.key(), record.value(), false, null);
    }

    private DeadLetterRow parseDeadLetter(ConsumerRecord<byte[], byte[]> record) {
        String reason = header(record, DeadLetterHeaders.REASON);
        String topic = header(record, DeadLetterHeaders.ORIGINAL_TOPIC);
        Integer partition = parseInt(header(record, DeadLetterHeaders.ORIGINAL_PARTITION));
        Long offset = parseLong(header(record, DeadLetterHeaders.ORIGINAL_OFFSET));
        Long timestamp = parseLong(header(record, DeadLetterHeaders.ORIGINAL_TIMESTAMP));
        boolean haveOrigin = topic != null && !topic.isEmpty() && partition != null && offset != null;
        boolean late = DeadLetterHeaders.Reason.LATE.name().equals(reason);
        // LATE and INVALID records are events that decoded upstream; the others never decode
        boolean decodes = late || DeadLetterHeaders.Reason.INVALID.name().equals(reason);
        UsageEvent event = decodes ? decodeEvent(record, haveOrigin ? topic : record.topic()) : null;
        return new DeadLetterRow(
                reason == null || reason.isBlank() ? UNSPECIFIED_REASON : reason,
                header(record, DeadLetterHeaders.MESSAGE),
                header(record, DeadLetterHeaders.STAGE),
                haveOrigin ? topic : record.topic(),
                haveOrigin ? partition : record.partition(),
                haveOrigin ? offset : record.offset(),
                timestamp != null ? Instant.ofEpochMilli(timestamp) : (haveOrigin ? null : timestampOf(record)),
                record.key(), record.value(), late, event);
    }

    /** The decoded event, or null when its bytes do not decode (the raw bytes are kept anyway). */
    private UsageEvent decodeEvent(ConsumerRecord<byte[], byte[]> record, String originalTopic) {
        if (record.value() == null) {
            return null;
        }
        try {
            return eventDeserializer.deserialize(originalTopic, record.value());
        } catch (RuntimeException e) {
            if (Failures.isRegistryUnavailable(e)) {
                throw new TransientException("schema registry unavailable while decoding a dead-lettered event", e);
            }
            return null;
        }
    }

    private static Instant timestampOf(ConsumerRecord<?, ?> record) {
        return record.timestampType() == TimestampType.NO_TIMESTAMP_TYPE || record.timestamp() < 0
                ? null : Instant.ofEpochMilli(record.timestamp());
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static Integer parseInt(String text) {
        try {
            return text == null ? null : Integer.valueOf(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Long parseLong(String text) {
        try {
            return text == null ? null : Long.valueOf(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
