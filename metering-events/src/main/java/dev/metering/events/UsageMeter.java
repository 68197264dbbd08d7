package dev.metering.events;

import dev.metering.avro.UsageEvent;
import dev.metering.events.UsageEventValidator.Violation;
import dev.metering.events.config.ConfigException;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerdeConfig;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.events.serde.AvroSerializer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The usage-event producer chat services embed. Typical use, one instance per application:
 *
 * <pre>{@code
 * UsageMeter meter = UsageMeter.create(UsageMeterConfig.builder("kafka:9092", "http://registry:8081").build());
 * UsageEvent event = UsageEvents.builder(clock).org("acme").feature("CHAT_MESSAGE").user("u1").build();
 * meter.record(event).whenComplete((metadata, error) -> { if (error != null) log.warn("not metered", error); });
 * ...
 * meter.close(); // flushes
 * }</pre>
 *
 * <p>Guarantees:
 * <ul>
 *   <li>{@link #record} validates first with {@link UsageEventValidator} and throws
 *       {@link InvalidUsageEventException} listing every problem: nothing invalid is sent;</li>
 *   <li>{@link #record} blocks the caller at most {@link UsageMeterConfig#maxBlock()} waiting on
 *       Kafka (metadata, buffer space; validation and encoding add microseconds), and the
 *       returned stage completes within {@link UsageMeterConfig#deliveryTimeout()} after that:
 *       an unreachable broker fails the stage (with Kafka's {@code TimeoutException}) instead of
 *       hanging the chat request;</li>
 *   <li>the producer is idempotent ({@code acks=all}, {@code enable.idempotence=true}): Kafka's
 *       own retries never write duplicates; a caller that retries a failed event must resend the
 *       same event (same {@code eventId}), which the pipeline deduplicates;</li>
 *   <li>records go to {@link Topics#events()} with key = {@code orgId} (UTF-8 string) and the
 *       value in the Confluent Avro wire format ({@link AvroSerializer});</li>
 *   <li>{@link #close()} flushes what is buffered, waiting at most
 *       {@link UsageMeterConfig#closeTimeout()}.</li>
 * </ul>
 * Stages complete on the producer's I/O thread: do not block in callbacks attached with
 * {@code thenApply}/{@code whenComplete}; use the {@code ...Async} variants for slow work.
 * Thread-safe.
 */
public final class UsageMeter implements AutoCloseable {

    private final Producer<String, byte[]> producer;
    private final AvroSerializer<UsageEvent> serializer;
    private final String topic;
    private final Clock clock;
    private final Duration closeTimeout;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();

    private UsageMeter(UsageMeterConfig config, SchemaRegistryClient registry) {
        this.topic = config.topics().events();
        this.clock = config.clock();
        this.closeTimeout = config.closeTimeout();
        this.serializer = new AvroSerializer<>(registry,
                Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, config.autoRegisterSchemas()), false);
        // Resolve the schema id now, so record() never waits on the registry: a registry that is
        // unreachable or refuses the schema fails start-up, not a chat request.
        String subject = AvroSerdes.subject(topic, false);
        if (config.autoRegisterSchemas()) {
            registry.register(subject, UsageEvent.getClassSchema());
        } else {
            registry.getId(subject, UsageEvent.getClassSchema());
        }
        this.producer = new KafkaProducer<>(config.producerProperties(), new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * A meter talking to the schema registry configured in {@code config}.
     *
     * @throws ConfigException when no {@code schema.registry.url} is configured
     * @throws dev.metering.events.registry.SchemaRegistryException when the registry is
     *     unreachable or refuses the {@code UsageEvent} schema
     */
    public static UsageMeter create(UsageMeterConfig config) {
        Objects.requireNonNull(config, "config");
        if (!config.schemaRegistry().containsKey(HttpSchemaRegistryClient.URL_CONFIG)) {
            throw new ConfigException(List.of("schemaRegistry: " + HttpSchemaRegistryClient.URL_CONFIG + " is required"));
        }
        return create(config, HttpSchemaRegistryClient.fromConfig(config.schemaRegistry()));
    }

    /** A meter on a registry client you share (or an {@code InMemorySchemaRegistryClient} in tests). */
    public static UsageMeter create(UsageMeterConfig config, SchemaRegistryClient registry) {
        return new UsageMeter(Objects.requireNonNull(config, "config"), Objects.requireNonNull(registry, "registry"));
    }

    /**
     * Validates and sends one event.
     *
     * @return completes with the record's partition and offset once the broker acknowledged it
     *     ({@code acks=all}), or exceptionally (e.g. Kafka's {@code TimeoutException}) within the
     *     configured bounds
     * @throws InvalidUsageEventException listing every broken rule; nothing is sent
     */
    public CompletionStage<RecordMetadata> record(UsageEvent event) {
        Objects.requireNonNull(event, "event");
        List<Violation> violations = UsageEventValidator.validate(event, clock.instant());
        if (!violations.isEmpty()) {
            rejected.incrementAndGet();
            throw new InvalidUsageEventException(violations);
        }
        Delivery delivery = new Delivery();
        byte[] value;
        try {
            value = serializer.serialize(topic, event);
        } catch (RuntimeException e) {
            failed.incrementAndGet();
            delivery.result.completeExceptionally(e);
            return delivery.result;
        }
        inFlight.incrementAndGet();
        try {
            producer.send(new ProducerRecord<>(topic, event.getOrgId(), value), delivery::complete);
        } catch (RuntimeException e) {
            // e.g. the producer was closed, or interrupted while blocked; Kafka's own timeouts
            // arrive through the callback
            delivery.complete(null, e);
        }
        return delivery.result;
    }

    /** Sends everything buffered and waits for the acknowledgements. */
    public void flush() {
        producer.flush();
    }

    /** Events acknowledged by the broker. */
    public long sent() {
        return sent.get();
    }

    /** Events that were valid but could not be delivered (their stage failed). */
    public long failed() {
        return failed.get();
    }

    /** Events refused by validation (an {@link InvalidUsageEventException} was thrown). */
    public long rejected() {
        return rejected.get();
    }

    /** Events sent but not yet acknowledged or failed. */
    public long inFlight() {
        return inFlight.get();
    }

    /**
     * Reservations on billing-api at {@code apiBaseUrl} with an API key of scope {@code check}:
     * reserve before an expensive call, then settle with its usage event (see {@link Reservations}).
     */
    public Reservations reservations(java.net.URI apiBaseUrl, String apiKey) {
        return new Reservations(this, apiBaseUrl, apiKey);
    }

    /** Flushes buffered events (waiting at most the configured close timeout) and releases the producer. */
    @Override
    public void close() {
        producer.close(closeTimeout);
        serializer.close();
    }

    /** Completes one record's stage exactly once, whichever path reports first. */
    private final class Delivery {
        final CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
        private final AtomicBoolean done = new AtomicBoolean();

        void complete(RecordMetadata metadata, Exception error) {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            inFlight.decrementAndGet();
            if (error == null) {
                sent.incrementAndGet();
                result.complete(metadata);
            } else {
                failed.incrementAndGet();
                result.completeExceptionally(error);
            }
        }
    }
}
