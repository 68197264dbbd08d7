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
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 1: decode and validate.
 *
 * <p>Input: {@code metering.usage.events}, read as raw bytes (key: orgId in UTF-8, value:
 * {@code UsageEvent} in Confluent wire format), so that a record the deserializer cannot decode
 * is data, not a crash. Output: key = the event's orgId (String), value = {@link MeteredEvent},
 * either accepted or refused:
 * <ul>
 *   <li>{@code MALFORMED}: the bytes are not a decodable Confluent Avro record (also a null value);</li>
 *   <li>{@code UNKNOWN_SCHEMA}: the schema id gives no usable Avro schema: unknown to the registry,
 *       refused by it (a 4xx other than 429), of another type (JSON, PROTOBUF) or unparsable; the
 *       message carries the registry's answer;</li>
 *   <li>{@code INVALID}: decoded, but breaks a rule of UsageEvent, docs/contract.md ({@link UsageEventValidator}, the one
 *       shared implementation of the rules); the message lists every violation.</li>
 * </ul>
 * Guarantee: no bad record stops the application; each record yields exactly one output. A
 * registry that cannot be reached or answers 5xx or 429 is NOT a bad record: the stage asks
 * again with backoff for at most its registry wait (kept below the exactly-once transaction
 * timeout), then throws {@link RegistryUnavailableException}: the transaction aborts, nothing
 * past the record is counted, and the runner replaces the thread after a backoff without
 * counting the outage as a failure ({@code StreamsApp}).
 */
public final class ValidateStage implements Processor<byte[], byte[], String, MeteredEvent> {

    public static final String STAGE = "validate";
    /**
     * How long one record waits for an unavailable registry inside {@code process()}: with a
     * registry request bounded by a few seconds, the transaction stays below Kafka Streams'
     * exactly-once {@code transaction.timeout.ms} (10 s), and far below {@code max.poll.interval.ms}.
     */
    public static final Duration REGISTRY_WAIT = Duration.ofSeconds(4);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);
    private static final Logger LOG = LoggerFactory.getLogger(ValidateStage.class);

    /** Waits between registry attempts; replaced in tests. */
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    private final Deserializer<UsageEvent> deserializer;
    private final Clock clock;
    private final MeteringMetrics metrics;
    private final Duration registryWait;
    private final Sleeper sleeper;
    private ProcessorContext<String, MeteredEvent> context;

    public ValidateStage(Deserializer<UsageEvent> deserializer, Clock clock, MeteringMetrics metrics) {
        this(deserializer, clock, metrics, REGISTRY_WAIT, d -> Thread.sleep(d.toMillis()));
    }

    /** With a given registry wait and sleeper (tests). */
    public ValidateStage(Deserializer<UsageEvent> deserializer, Clock clock, MeteringMetrics metrics,
                         Duration registryWait, Sleeper sleeper) {
        this.deserializer = deserializer;
        this.clock = clock;
        this.metrics = metrics;
        this.registryWait = registryWait;
        this.sleeper = sleeper;
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
            event = decode(origin, record);
        } catch (UnknownSchemaException e) {
            return MeteredEvent.refused(null, origin, new Refusal(Reason.UNKNOWN_SCHEMA, STAGE, e.getMessage()));
        } catch (MalformedPayloadException e) {
            return MeteredEvent.refused(null, origin, new Refusal(Reason.MALFORMED, STAGE, e.getMessage()));
        } catch (RegistryUnavailableException e) {
            throw e; // never dead-letter a good record because the registry is down
        } catch (RuntimeException e) {
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

    /** Decodes, asking a transiently unavailable registry again until {@link #registryWait} is spent. */
    private UsageEvent decode(Origin origin, Record<byte[], byte[]> record) {
        long deadline = System.nanoTime() + registryWait.toNanos();
        Duration backoff = FIRST_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            try {
                return deserializer.deserialize(origin.topic(), record.headers(), record.value());
            } catch (RuntimeException e) {
                if (!SchemaRegistryException.isTransient(e)) {
                    throw e;
                }
                if (System.nanoTime() + backoff.toNanos() > deadline) {
                    throw new RegistryUnavailableException("schema registry unavailable for " + registryWait
                            + " while decoding " + origin.topic() + "-" + origin.partition() + "@" + origin.offset()
                            + " (" + attempt + " attempts): " + e.getMessage(), e);
                }
                if (attempt == 1) {
                    LOG.warn("schema registry unavailable while decoding {}-{}@{}, waiting: {}", origin.topic(),
                            origin.partition(), origin.offset(), e.getMessage());
                }
                try {
                    sleeper.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new RegistryUnavailableException("interrupted while waiting for the schema registry", e);
                }
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
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
