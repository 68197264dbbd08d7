package dev.metering.events.serde;

import dev.metering.events.registry.HttpSchemaRegistryClient;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/**
 * The serde's settings, read from Confluent's configuration keys so the serde drops in where
 * Confluent's {@code KafkaAvroSerializer}/{@code KafkaAvroDeserializer} were configured.
 * Registry connection keys ({@code schema.registry.url}, {@code basic.auth.*},
 * {@code bearer.auth.*}) are read by {@link HttpSchemaRegistryClient#fromConfig(Map)}.
 *
 * @param autoRegisterSchemas register the record's schema when serializing (default true);
 *                            false: only look up its id
 * @param useLatestVersion    serialize with the subject's latest registered version (default false)
 * @param specificAvroReader  deserialize into generated {@code SpecificRecord} classes (default false)
 */
public record AvroSerdeConfig(boolean autoRegisterSchemas, boolean useLatestVersion, boolean specificAvroReader) {

    /** Comma-separated registry base URLs. */
    public static final String SCHEMA_REGISTRY_URL = HttpSchemaRegistryClient.URL_CONFIG;
    /** Register schemas on serialize (default true). */
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    /** Use the subject's latest version instead of the record's schema (default false). */
    public static final String USE_LATEST_VERSION = "use.latest.version";
    /** {@code USER_INFO} or {@code URL}. */
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = HttpSchemaRegistryClient.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG;
    /** {@code user:password}. */
    public static final String BASIC_AUTH_USER_INFO = HttpSchemaRegistryClient.BASIC_AUTH_USER_INFO_CONFIG;
    /** Read into generated SpecificRecord classes (default false: GenericRecord). */
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";

    /** Reads the settings; unknown keys are ignored (the map is usually a whole Kafka client config). */
    public static AvroSerdeConfig from(Map<String, ?> config) {
        return new AvroSerdeConfig(
                bool(config, AUTO_REGISTER_SCHEMAS, true),
                bool(config, USE_LATEST_VERSION, false),
                bool(config, SPECIFIC_AVRO_READER, false));
    }

    private static boolean bool(Map<String, ?> config, String key, boolean defaultValue) {
        Object value = config.get(key);
        if (value == null) {
            return defaultValue;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        String text = value.toString().trim();
        if (text.equalsIgnoreCase("true")) {
            return true;
        }
        if (text.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigException(key, value, "must be true or false");
    }
}
