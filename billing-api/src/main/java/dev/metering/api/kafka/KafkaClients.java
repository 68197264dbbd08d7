package dev.metering.api.kafka;

import dev.metering.api.ApiException;
import dev.metering.api.config.KafkaSettings;
import dev.metering.avro.ModelPrice;
import dev.metering.avro.UsageEvent;
import dev.metering.events.Topics;
import dev.metering.events.UsageMeter;
import dev.metering.events.UsageMeterConfig;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * billing-api's Kafka clients, created on first use (so an API whose registry or broker is down
 * at start-up still serves checks, and the next ingest request tries again):
 * <ul>
 *   <li>the ingest {@link UsageMeter} (the client library's idempotent producer, key orgId);</li>
 *   <li>an idempotent producer for the price book ({@code ModelPrice}, key {@code provider/model});</li>
 *   <li>a {@code UsageEvent} deserializer to show dead letters decoded.</li>
 * </ul>
 * Without {@link KafkaSettings} every use answers 503 {@code UNAVAILABLE}.
 */
public final class KafkaClients implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KafkaClients.class);

    private final KafkaSettings settings;
    private final Clock clock;
    private final Lazy<SchemaRegistryClient> registry;
    private final Lazy<UsageMeter> meter;
    private final Lazy<PriceProducer> prices;
    private final Lazy<Deserializer<UsageEvent>> eventDeserializer;

    /** The price book producer and its serializer. */
    public record PriceProducer(Producer<String, byte[]> producer, Serializer<ModelPrice> serializer) {
    }

    public KafkaClients(KafkaSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.registry = new Lazy<>("schema registry", () -> HttpSchemaRegistryClient.fromConfig(settings.schemaRegistry()));
        this.meter = new Lazy<>("ingest producer", () -> UsageMeter.create(UsageMeterConfig
                .builder(settings.bootstrapServers(), null)
                .schemaRegistry(settings.schemaRegistry())
                .topics(settings.topics())
                .kafkaProperties(settings.kafkaProperties())
                .clientId("metering-billing-api-ingest")
                .maxBlock(settings.maxBlock())
                .requestTimeout(min(Duration.ofSeconds(5), settings.deliveryTimeout().minusMillis(100)))
                .deliveryTimeout(settings.deliveryTimeout())
                .linger(Duration.ofMillis(5))
                .closeTimeout(Duration.ofSeconds(5))
                .clock(clock)
                .build(), registry.get()));
        this.prices = new Lazy<>("price producer", () -> {
            Map<String, Object> props = new TreeMap<>(settings.kafkaProperties());
            props.put("bootstrap.servers", settings.bootstrapServers());
            props.put("client.id", "metering-billing-api-prices");
            props.put("acks", "all");
            props.put("enable.idempotence", "true");
            props.put("max.block.ms", Long.toString(settings.maxBlock().toMillis()));
            props.put("request.timeout.ms", Long.toString(min(Duration.ofSeconds(5),
                    settings.deliveryTimeout().minusMillis(100)).toMillis()));
            props.put("delivery.timeout.ms", Long.toString(settings.deliveryTimeout().toMillis()));
            props.put("linger.ms", "0");
            Serializer<ModelPrice> serializer = AvroSerdes.specific(ModelPrice.class, registry.get(),
                    Map.of("auto.register.schemas", true), false).serializer();
            return new PriceProducer(new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer()),
                    serializer);
        });
        this.eventDeserializer = new Lazy<>("event deserializer", () -> AvroSerdes.specific(UsageEvent.class,
                registry.get(), Map.of("specific.avro.reader", true), false).deserializer());
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** Tries to create the clients now; failures are logged and retried on first use. */
    public void warmUp() {
        try {
            meter.get();
        } catch (RuntimeException e) {
            log.warn("Kafka clients not ready yet, will retry on first use: {}", e.getMessage());
        }
    }

    public Topics topics() {
        return settings.topics();
    }

    public Duration deliveryTimeout() {
        return settings.deliveryTimeout();
    }

    /** How long after its hour window's end an event still counts (the streams' grace). */
    public Duration grace() {
        return settings.grace();
    }

    public Clock clock() {
        return clock;
    }

    public UsageMeter meter() {
        return meter.get();
    }

    public PriceProducer prices() {
        return prices.get();
    }

    public Deserializer<UsageEvent> eventDeserializer() {
        return eventDeserializer.get();
    }

    @Override
    public void close() {
        meter.closeIfCreated(UsageMeter::close);
        prices.closeIfCreated(p -> {
            p.producer().close(Duration.ofSeconds(5));
            p.serializer().close();
        });
        eventDeserializer.closeIfCreated(Deserializer::close);
    }

    /** Created once on success; a failure is a 503 and the next call tries again. */
    private static final class Lazy<T> {
        private final String what;
        private final Supplier<T> factory;
        private volatile T value;

        Lazy(String what, Supplier<T> factory) {
            this.what = what;
            this.factory = factory;
        }

        T get() {
            T v = value;
            if (v != null) {
                return v;
            }
            synchronized (this) {
                if (value == null) {
                    try {
                        value = factory.get();
                    } catch (ApiException e) {
                        throw e;
                    } catch (RuntimeException e) {
                        log.warn("cannot create the {}: {}", what, e.toString());
                        throw new ApiException(503, "UNAVAILABLE", null, "the " + what
                                + " is unavailable (Kafka or the schema registry cannot be reached); retry shortly");
                    }
                }
                return value;
            }
        }

        synchronized void closeIfCreated(java.util.function.Consumer<T> closer) {
            if (value != null) {
                try {
                    closer.accept(value);
                } catch (RuntimeException e) {
                    log.warn("closing the {} failed: {}", what, e.toString());
                }
                value = null;
            }
        }
    }
}
