package dev.metering.streams.validate;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.avro.UsageEvent;
import dev.metering.events.DeadLetterHeaders.Reason;
import dev.metering.events.UsageEventValidator;
import dev.metering.events.registry.SchemaRegistryException;
import dev.metering.events.serde.MalformedPayloadException;
import dev.metering.events.serde.UnknownSchemaException;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.Origin;
import dev.metering.streams.deadletter.Refusal;
import dev.metering.streams.metrics.MeteringMetrics;
import java.time.Clock;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Stage 1: decode and validate.
 *
 * <p>Input: {@code metering.usage.events}, read as raw bytes (key: orgId in UTF-8, value:
 * {@code UsageEvent} in Confluent wire format), so that a record the deserializer cannot decode
 * is data, not a crash. Output: key = the event's orgId (String), value = {@link MeteredEvent},
 * either accepted or refused:
 * <ul>
 *   <li>{@code MALFORMED}: the bytes are not a decodable Confluent Avro record (also a null value);</li>
 *   <li>{@code UNKNOWN_SCHEMA}: the schema id is not in the registry;</li>
 *   <li>{@code INVALID}: decoded, but breaks DESIGN.md §4 ({@link UsageEventValidator}, the one
 *       shared implementation of the rules); the message lists every violation.</li>
 * </ul>
 * Guarantee: no bad record stops the application; each record yields exactly one output. A
 * registry that cannot be reached is NOT a bad record: that exception propagates, the
 * transaction aborts, and the record is retried after the thread is replaced.
 */
public final class ValidateStage implements Processor<byte[], byte[], String, MeteredEvent> {

    public static final String STAGE = "validate";

    private final Deserializer<UsageEvent> deserializer;
    private final Clock clock;
    private final MeteringMetrics metrics;
    private ProcessorContext<String, MeteredEvent> context;

    public ValidateStage(Deserializer<UsageEvent> deserializer, Clock clock, MeteringMetrics metrics) {
        this.deserializer = deserializer;
        this.clock = clock;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, MeteredEvent> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        metrics.eventIn(record.timestamp());
        Origin origin = originOf(record);
        MeteredEvent out = decodeAndValidate(origin, record);
        String key = out.event() != null ? out.event().getOrgId() : keyAsString(record.key());
        context.forward(record.withKey(key).withValue(out));
    }

    private MeteredEvent decodeAndValidate(Origin origin, Record<byte[], byte[]> record) {
        if (record.value() == null) {
            return MeteredEvent.refused(null, origin, new Refusal(Reason.MALFORMED, STAGE, "the record value is null"));
        }
        UsageEvent event;
        try {
            event = deserializer.deserialize(origin.topic(), record.headers(), record.value());
        } catch (UnknownSchemaException e) {
            return MeteredEvent.refused(null, origin, new Refusal(Reason.UNKNOWN_SCHEMA, STAGE, e.getMessage()));
        } catch (MalformedPayloadException e) {
            return MeteredEvent.refused(null, origin, new Refusal(Reason.MALFORMED, STAGE, e.getMessage()));
        } catch (RuntimeException e) {
            if (isRegistryUnavailable(e)) {
                throw e; // transient: retry, never dead-letter a good record because the registry is down
            }
            return MeteredEvent.refused(null, origin, new Refusal(Reason.MALFORMED, STAGE, String.valueOf(e.getMessage())));
        }
        if (event == null) {
            return MeteredEvent.refused(null, origin, new Refusal(Reason.MALFORMED, STAGE, "the record value decodes to null"));
        }
        List<UsageEventValidator.Violation> violations = UsageEventValidator.validate(event, clock.instant());
        if (!violations.isEmpty()) {
            String message = violations.stream()
                    .map(v -> v.field() + " " + v.code() + ": " + v.message())
                    .collect(Collectors.joining("; "));
            return MeteredEvent.refused(event, origin, new Refusal(Reason.INVALID, STAGE, message));
        }
        return MeteredEvent.accepted(event, origin);
    }

    /**
     * True when the failure comes from the registry (unreachable, 5xx, refused credentials), not
     * from the payload: an unknown id was already told apart as {@link UnknownSchemaException}.
     */
    static boolean isRegistryUnavailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SchemaRegistryException) {
                return true;
            }
        }
        return false;
    }

    private Origin originOf(Record<byte[], byte[]> record) {
        RecordMetadata meta = context.recordMetadata().orElse(null);
        return new Origin(record.key(), record.value(),
                meta == null ? "" : meta.topic(),
                meta == null ? -1 : meta.partition(),
                meta == null ? -1 : meta.offset(),
                record.timestamp());
    }

    private static String keyAsString(byte[] key) {
        return key == null ? null : new String(key, UTF_8);
    }
}
