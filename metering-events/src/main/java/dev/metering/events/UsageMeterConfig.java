package dev.metering.events;

import dev.metering.events.config.ConfigException;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.KafkaClientProperties;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The configuration of a {@link UsageMeter}, validated on construction: every problem is
 * reported at once in one {@link ConfigException}.
 *
 * <p>The time bounds are what a chat service relies on: {@link UsageMeter#record} blocks the
 * caller at most {@code maxBlock} (Kafka's {@code max.block.ms}: metadata and buffer space), and
 * the returned stage completes, successfully or not, at most {@code deliveryTimeout} after
 * {@code record} returned (Kafka's {@code delivery.timeout.ms}, which includes retries).
 *
 * @param bootstrapServers Kafka's {@code bootstrap.servers}
 * @param schemaRegistry   schema registry settings with Confluent's keys ({@code schema.registry.url},
 *                         {@code basic.auth.credentials.source}, {@code basic.auth.user.info}, ...)
 * @param topics           the topic names (the events go to {@link Topics#events()})
 * @param autoRegisterSchemas register the {@code UsageEvent} schema at start-up (true) or only look up its id
 * @param maxBlock         the longest {@code record} blocks the caller (default 2 s)
 * @param requestTimeout   Kafka's {@code request.timeout.ms} (default 10 s)
 * @param deliveryTimeout  the longest until the returned stage completes (default 30 s); at
 *                         least {@code requestTimeout + linger}
 * @param linger           Kafka's {@code linger.ms}: batching delay (default 5 ms)
 * @param closeTimeout     how long {@link UsageMeter#close()} waits to flush (default 30 s)
 * @param clientId         Kafka's {@code client.id} (default {@code metering-usage-meter})
 * @param kafkaProperties  further Kafka producer properties (security, SASL, compression...);
 *                         they may not weaken {@code acks=all} or idempotence, and the settings
 *                         above take precedence
 * @param clock            the clock for validation's "now"
 */
public record UsageMeterConfig(
        String bootstrapServers,
        Map<String, Object> schemaRegistry,
        Topics topics,
        boolean autoRegisterSchemas,
        Duration maxBlock,
        Duration requestTimeout,
        Duration deliveryTimeout,
        Duration linger,
        Duration closeTimeout,
        String clientId,
        Map<String, Object> kafkaProperties,
        Clock clock) {

    /** Default {@link #maxBlock}. */
    public static final Duration DEFAULT_MAX_BLOCK = Duration.ofSeconds(2);
    /** Default {@link #requestTimeout}. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** Default {@link #deliveryTimeout}. */
    public static final Duration DEFAULT_DELIVERY_TIMEOUT = Duration.ofSeconds(30);
    /** Default {@link #linger}. */
    public static final Duration DEFAULT_LINGER = Duration.ofMillis(5);
    /** Default {@link #closeTimeout}. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** Default {@link #clientId}. */
    public static final String DEFAULT_CLIENT_ID = "metering-usage-meter";

    public UsageMeterConfig {
        schemaRegistry = schemaRegistry == null ? null : Map.copyOf(schemaRegistry);
        kafkaProperties = kafkaProperties == null ? null : Map.copyOf(kafkaProperties);
        List<String> problems = problems(bootstrapServers, schemaRegistry, topics, maxBlock, requestTimeout,
                deliveryTimeout, linger, closeTimeout, clientId, kafkaProperties, clock);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    /** A builder with the defaults above, for the given Kafka and registry addresses. */
    public static Builder builder(String bootstrapServers, String schemaRegistryUrl) {
        return new Builder(bootstrapServers, schemaRegistryUrl);
    }

    /**
     * Reads the configuration from {@code METERING_*} variables (docs/contract.md, Configuration):
     * {@code METERING_KAFKA_BOOTSTRAP} and {@code METERING_SCHEMA_REGISTRY_URL} (required),
     * {@code METERING_SCHEMA_REGISTRY_AUTH}, {@code METERING_TOPIC_PREFIX}, any
     * {@code METERING_KAFKA_<PROPERTY>}, and the meter's own {@code METERING_METER_MAX_BLOCK},
     * {@code METERING_METER_REQUEST_TIMEOUT}, {@code METERING_METER_DELIVERY_TIMEOUT},
     * {@code METERING_METER_LINGER}, {@code METERING_METER_CLOSE_TIMEOUT} (durations such as
     * {@code 2s}), {@code METERING_METER_AUTO_REGISTER} (true).
     *
     * @throws ConfigException listing every problem
     */
    public static UsageMeterConfig from(ConfigSource source, Clock clock) {
        String bootstrap = source.requiredString(KafkaClientProperties.BOOTSTRAP);
        source.requiredString(KafkaClientProperties.SCHEMA_REGISTRY_URL);
        Map<String, Object> registry = KafkaClientProperties.schemaRegistry(source);
        Map<String, Object> kafka = KafkaClientProperties.kafka(source);
        kafka.remove("bootstrap.servers");
        Builder builder = builder(bootstrap, null)
                .schemaRegistry(registry)
                .autoRegisterSchemas(source.bool("METERING_METER_AUTO_REGISTER", true))
                .maxBlock(source.duration("METERING_METER_MAX_BLOCK", DEFAULT_MAX_BLOCK))
                .requestTimeout(source.duration("METERING_METER_REQUEST_TIMEOUT", DEFAULT_REQUEST_TIMEOUT))
                .deliveryTimeout(source.duration("METERING_METER_DELIVERY_TIMEOUT", DEFAULT_DELIVERY_TIMEOUT))
                .linger(source.duration("METERING_METER_LINGER", DEFAULT_LINGER))
                .closeTimeout(source.duration("METERING_METER_CLOSE_TIMEOUT", DEFAULT_CLOSE_TIMEOUT))
                .kafkaProperties(kafka)
                .clock(clock);
        Topics topics = Topics.from(source);
        builder.topics(topics);
        if (source.problems().isEmpty()) {
            return builder.build();
        }
        // report the variables' problems together with the record's own checks
        List<String> all = new ArrayList<>(source.problems());
        all.addAll(problems(bootstrap == null ? "(reported above)" : bootstrap, registry, topics, builder.maxBlock,
                builder.requestTimeout, builder.deliveryTimeout, builder.linger, builder.closeTimeout,
                builder.clientId, kafka, clock));
        throw new ConfigException(all);
    }

    private static List<String> problems(String bootstrapServers, Map<String, Object> schemaRegistry, Topics topics,
                                         Duration maxBlock, Duration requestTimeout, Duration deliveryTimeout,
                                         Duration linger, Duration closeTimeout, String clientId,
                                         Map<String, Object> kafkaProperties, Clock clock) {
        List<String> problems = new ArrayList<>();
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            problems.add("bootstrapServers is required");
        }
        if (schemaRegistry == null) {
            problems.add("schemaRegistry is required (at least schema.registry.url)");
        }
        if (topics == null) {
            problems.add("topics is required");
        }
        positive(problems, "maxBlock", maxBlock);
        positive(problems, "requestTimeout", requestTimeout);
        positive(problems, "deliveryTimeout", deliveryTimeout);
        if (linger == null || linger.isNegative()) {
            problems.add("linger must be zero or positive");
        }
        if (closeTimeout == null || closeTimeout.isNegative()) {
            problems.add("closeTimeout must be zero or positive");
        }
        if (deliveryTimeout != null && requestTimeout != null && linger != null
                && deliveryTimeout.compareTo(requestTimeout.plus(linger)) < 0) {
            problems.add("deliveryTimeout (" + deliveryTimeout + ") must be at least requestTimeout + linger ("
                    + requestTimeout.plus(linger) + ")");
        }
        if (clientId == null || clientId.isBlank()) {
            problems.add("clientId is required");
        }
        if (kafkaProperties == null) {
            problems.add("kafkaProperties must not be null (use an empty map)");
        } else {
            Object acks = kafkaProperties.get("acks");
            if (acks != null && !(acks.toString().equalsIgnoreCase("all") || acks.toString().equals("-1"))) {
                problems.add("kafkaProperties acks=" + acks + ": the meter always uses acks=all");
            }
            Object idempotence = kafkaProperties.get("enable.idempotence");
            if (idempotence != null && !idempotence.toString().toLowerCase(Locale.ROOT).equals("true")) {
                problems.add("kafkaProperties enable.idempotence=" + idempotence + ": the meter is always idempotent");
            }
        }
        if (clock == null) {
            problems.add("clock is required");
        }
        return problems;
    }

    private static void positive(List<String> problems, String name, Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            problems.add(name + " must be positive");
        }
    }

    /** The Kafka producer properties the meter uses (the typed settings override {@link #kafkaProperties}). */
    public Map<String, Object> producerProperties() {
        Map<String, Object> props = new TreeMap<>(kafkaProperties);
        props.put("bootstrap.servers", bootstrapServers);
        props.put("client.id", clientId);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("max.block.ms", Long.toString(maxBlock.toMillis()));
        props.put("request.timeout.ms", Long.toString(requestTimeout.toMillis()));
        props.put("delivery.timeout.ms", Long.toString(deliveryTimeout.toMillis()));
        props.put("linger.ms", Long.toString(linger.toMillis()));
        return props;
    }

    /** Builds a {@link UsageMeterConfig}; {@link #build()} validates everything at once. */
    public static final class Builder {
        private final String bootstrapServers;
        private Map<String, Object> schemaRegistry = new TreeMap<>();
        private Topics topics = Topics.defaults();
        private boolean autoRegisterSchemas = true;
        private Duration maxBlock = DEFAULT_MAX_BLOCK;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private Duration deliveryTimeout = DEFAULT_DELIVERY_TIMEOUT;
        private Duration linger = DEFAULT_LINGER;
        private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;
        private String clientId = DEFAULT_CLIENT_ID;
        private Map<String, Object> kafkaProperties = Map.of();
        private Clock clock = Clock.systemUTC();

        private Builder(String bootstrapServers, String schemaRegistryUrl) {
            this.bootstrapServers = bootstrapServers;
            if (schemaRegistryUrl != null) {
                schemaRegistry.put(HttpSchemaRegistryClient.URL_CONFIG, schemaRegistryUrl);
            }
        }

        /** Replaces all schema registry settings (Confluent keys). */
        public Builder schemaRegistry(Map<String, ?> settings) {
            this.schemaRegistry = new TreeMap<>(settings);
            return this;
        }

        /** Adds basic auth for the registry ({@code user:password}, e.g. Confluent Cloud). */
        public Builder schemaRegistryBasicAuth(String userInfo) {
            schemaRegistry.put(HttpSchemaRegistryClient.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG, "USER_INFO");
            schemaRegistry.put(HttpSchemaRegistryClient.BASIC_AUTH_USER_INFO_CONFIG, userInfo);
            return this;
        }

        /** The topic names. */
        public Builder topics(Topics topics) {
            this.topics = topics;
            return this;
        }

        /** Register the schema at start-up (default true) or only look up its id. */
        public Builder autoRegisterSchemas(boolean autoRegister) {
            this.autoRegisterSchemas = autoRegister;
            return this;
        }

        /** The longest {@code record} blocks the caller. */
        public Builder maxBlock(Duration maxBlock) {
            this.maxBlock = maxBlock;
            return this;
        }

        /** Kafka's {@code request.timeout.ms}. */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
            return this;
        }

        /** The longest until a record's stage completes. */
        public Builder deliveryTimeout(Duration deliveryTimeout) {
            this.deliveryTimeout = deliveryTimeout;
            return this;
        }

        /** Kafka's {@code linger.ms}. */
        public Builder linger(Duration linger) {
            this.linger = linger;
            return this;
        }

        /** How long {@code close()} waits to flush. */
        public Builder closeTimeout(Duration closeTimeout) {
            this.closeTimeout = closeTimeout;
            return this;
        }

        /** Kafka's {@code client.id}. */
        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        /** Further producer properties (security, SASL, compression...). */
        public Builder kafkaProperties(Map<String, ?> properties) {
            this.kafkaProperties = new TreeMap<>(properties);
            return this;
        }

        /** The clock for validation's "now". */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /**
         * The validated configuration.
         *
         * @throws ConfigException listing every problem
         */
        public UsageMeterConfig build() {
            return new UsageMeterConfig(bootstrapServers, schemaRegistry, topics, autoRegisterSchemas, maxBlock,
                    requestTimeout, deliveryTimeout, linger, closeTimeout, clientId, kafkaProperties, clock);
        }
    }
}
