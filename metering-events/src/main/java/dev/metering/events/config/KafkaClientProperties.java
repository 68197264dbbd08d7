package dev.metering.events.config;

import dev.metering.events.registry.HttpSchemaRegistryClient;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one conversion from {@code METERING_*} variables to Kafka client and schema registry
 * properties (docs/contract.md, Configuration), shared by every service so managed Kafka (Confluent Cloud, MSK,
 * Aiven) works the same everywhere:
 * <ul>
 *   <li>{@code METERING_KAFKA_BOOTSTRAP} → {@code bootstrap.servers};</li>
 *   <li>any other {@code METERING_KAFKA_<PROPERTY>} → the property in lower case with
 *       underscores as dots, e.g. {@code METERING_KAFKA_SECURITY_PROTOCOL=SASL_SSL} →
 *       {@code security.protocol=SASL_SSL}, {@code METERING_KAFKA_SASL_JAAS_CONFIG} →
 *       {@code sasl.jaas.config};</li>
 *   <li>{@code enable.metrics.push} is {@code false}: client metrics push (KIP-714) is not supported, the
 *       services export their metrics on {@code /metrics}, and the production image leaves its
 *       OpenTelemetry classes out; {@code METERING_KAFKA_ENABLE_METRICS_PUSH=true} is a configuration problem;</li>
 *   <li>{@code METERING_SCHEMA_REGISTRY_URL} → {@code schema.registry.url};</li>
 *   <li>{@code METERING_SCHEMA_REGISTRY_AUTH=user:pass} → {@code basic.auth.credentials.source=USER_INFO}
 *       and {@code basic.auth.user.info=user:pass}.</li>
 * </ul>
 * Problems (e.g. an auth value without a colon) are recorded on the {@link ConfigSource}.
 */
public final class KafkaClientProperties {

    /** The bootstrap servers variable. */
    public static final String BOOTSTRAP = "METERING_KAFKA_BOOTSTRAP";
    /** The prefix of pass-through Kafka client properties. */
    public static final String KAFKA_PREFIX = "METERING_KAFKA_";
    /** Kafka's client metrics push switch, which {@link #kafka} sets to {@code false}. */
    public static final String METRICS_PUSH = "enable.metrics.push";
    /** The schema registry base URL(s), comma-separated. */
    public static final String SCHEMA_REGISTRY_URL = "METERING_SCHEMA_REGISTRY_URL";
    /** Schema registry basic auth, {@code user:password}. */
    public static final String SCHEMA_REGISTRY_AUTH = "METERING_SCHEMA_REGISTRY_AUTH";

    private KafkaClientProperties() {
    }

    /**
     * Every Kafka client property ({@link #kafka}) plus the schema registry settings
     * ({@link #schemaRegistry}): what a producer, consumer or streams app with Avro serdes needs.
     */
    public static Map<String, Object> passThrough(ConfigSource source) {
        Map<String, Object> properties = kafka(source);
        properties.putAll(schemaRegistry(source));
        return properties;
    }

    /** Only the Kafka client properties from {@code METERING_KAFKA_*}. */
    public static Map<String, Object> kafka(ConfigSource source) {
        Map<String, Object> properties = new TreeMap<>();
        properties.put(METRICS_PUSH, "false");
        source.withPrefix(KAFKA_PREFIX).forEach((name, value) -> {
            String property = name.equals(BOOTSTRAP)
                    ? "bootstrap.servers"
                    : name.substring(KAFKA_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
            if (property.isEmpty()) {
                source.problem(name, "names no Kafka property");
            } else if ((property.equals(METRICS_PUSH) || property.endsWith("." + METRICS_PUSH))
                    && !value.trim().equalsIgnoreCase("false")) {
                // also Kafka Streams' per-client forms, e.g. producer.enable.metrics.push
                source.problem(name, "client metrics push is not supported (the services export their metrics on "
                        + "/metrics); leave it unset or false");
            } else {
                properties.put(property, value);
            }
        });
        return properties;
    }

    /** Only the schema registry settings, with Confluent's keys. */
    public static Map<String, Object> schemaRegistry(ConfigSource source) {
        Map<String, Object> properties = new TreeMap<>();
        source.get(SCHEMA_REGISTRY_URL).ifPresent(url -> {
            for (String single : url.split(",")) {
                String u = single.trim();
                if (!(u.startsWith("http://") || u.startsWith("https://"))) {
                    source.problem(SCHEMA_REGISTRY_URL, "'" + u + "' must start with http:// or https://");
                }
            }
            properties.put(HttpSchemaRegistryClient.URL_CONFIG, url);
        });
        source.get(SCHEMA_REGISTRY_AUTH).ifPresent(auth -> {
            int colon = auth.indexOf(':');
            if (colon <= 0) {
                source.problem(SCHEMA_REGISTRY_AUTH, "must be user:password");
            } else {
                properties.put(HttpSchemaRegistryClient.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG, "USER_INFO");
                properties.put(HttpSchemaRegistryClient.BASIC_AUTH_USER_INFO_CONFIG, auth);
            }
        });
        return properties;
    }
}
