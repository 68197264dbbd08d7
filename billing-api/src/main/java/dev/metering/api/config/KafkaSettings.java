package dev.metering.api.config;

import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.KafkaClientProperties;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Kafka side of billing-api (HTTP ingest, price publishing, dead-letter decoding): optional,
 * present when {@code METERING_KAFKA_BOOTSTRAP} is set. Without it, {@code POST /api/v1/events}
 * and {@code PUT /api/v1/prices} answer 503.
 *
 * @param bootstrapServers {@code METERING_KAFKA_BOOTSTRAP}
 * @param schemaRegistry   Confluent registry keys ({@code METERING_SCHEMA_REGISTRY_URL}, {@code _AUTH})
 * @param topics           from {@code METERING_TOPIC_PREFIX}
 * @param kafkaProperties  the {@code METERING_KAFKA_*} pass-through (security, SASL...)
 * @param maxBlock         {@code METERING_INGEST_MAX_BLOCK} (default 2s): the longest a send waits for metadata
 * @param deliveryTimeout  {@code METERING_INGEST_DELIVERY_TIMEOUT} (default 10s): the longest an
 *                         ingest request waits for Kafka's acknowledgements before answering 503
 * @param grace            {@code METERING_GRACE} (default 48h, as the streams app): ingest refuses
 *                         an event whose hour window closed more than this long ago ({@code LATE})
 */
public record KafkaSettings(String bootstrapServers, Map<String, Object> schemaRegistry, Topics topics,
                            Map<String, Object> kafkaProperties, Duration maxBlock, Duration deliveryTimeout,
                            Duration grace) {

    public static final Duration DEFAULT_GRACE = Duration.ofHours(48);

    public KafkaSettings {
        schemaRegistry = Map.copyOf(schemaRegistry);
        kafkaProperties = Map.copyOf(kafkaProperties);
    }

    /** Plain settings: a broker, a registry URL, default prefix and timeouts. */
    public static KafkaSettings of(String bootstrapServers, String schemaRegistryUrl, Topics topics) {
        return new KafkaSettings(bootstrapServers, Map.of(HttpSchemaRegistryClient.URL_CONFIG, schemaRegistryUrl), topics,
                Map.of(), Duration.ofSeconds(2), Duration.ofSeconds(10), DEFAULT_GRACE);
    }

    public KafkaSettings withTimeouts(Duration maxBlock, Duration deliveryTimeout) {
        return new KafkaSettings(bootstrapServers, schemaRegistry, topics, kafkaProperties, maxBlock, deliveryTimeout,
                grace);
    }

    public KafkaSettings withGrace(Duration grace) {
        return new KafkaSettings(bootstrapServers, schemaRegistry, topics, kafkaProperties, maxBlock, deliveryTimeout,
                grace);
    }

    /** Null when {@code METERING_KAFKA_BOOTSTRAP} is unset; problems are recorded in {@code source}. */
    public static KafkaSettings from(ConfigSource source) {
        if (source.get(KafkaClientProperties.BOOTSTRAP).isEmpty()) {
            return null;
        }
        String bootstrap = source.requiredString(KafkaClientProperties.BOOTSTRAP);
        source.requiredString(KafkaClientProperties.SCHEMA_REGISTRY_URL);
        Map<String, Object> registry = KafkaClientProperties.schemaRegistry(source);
        Map<String, Object> kafka = new TreeMap<>(KafkaClientProperties.kafka(source));
        kafka.remove("bootstrap.servers");
        Topics topics = Topics.from(source);
        Duration maxBlock = source.duration("METERING_INGEST_MAX_BLOCK", Duration.ofSeconds(2));
        Duration delivery = source.duration("METERING_INGEST_DELIVERY_TIMEOUT", Duration.ofSeconds(10));
        Duration grace = source.duration("METERING_GRACE", DEFAULT_GRACE);
        if (grace.isNegative()) {
            source.problem("METERING_GRACE", "must not be negative");
        }
        return new KafkaSettings(bootstrap, registry, topics, kafka, maxBlock, delivery, grace);
    }
}
