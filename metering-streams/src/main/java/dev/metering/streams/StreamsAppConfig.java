package dev.metering.streams;

import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.GroupMembership;
import dev.metering.events.config.KafkaClientProperties;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The streams service's configuration (docs/contract.md, Configuration), read once from {@code METERING_*}
 * variables and validated at start-up, reporting every problem at once.
 *
 * <table>
 *   <caption>variables</caption>
 *   <tr><td>{@code METERING_KAFKA_BOOTSTRAP}</td><td>required</td></tr>
 *   <tr><td>{@code METERING_SCHEMA_REGISTRY_URL}</td><td>required; {@code METERING_SCHEMA_REGISTRY_AUTH} {@code user:password} optional</td></tr>
 *   <tr><td>{@code METERING_TOPIC_PREFIX}</td><td>{@code metering.}</td></tr>
 *   <tr><td>{@code METERING_GRACE}</td><td>{@code 48h}</td></tr>
 *   <tr><td>{@code METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD}</td><td>none (e.g. {@code 0.002})</td></tr>
 *   <tr><td>{@code METERING_TOPIC_PARTITIONS}</td><td>12, for topics this service creates</td></tr>
 *   <tr><td>{@code METERING_TOPIC_REPLICATION_FACTOR}</td><td>broker default</td></tr>
 *   <tr><td>{@code METERING_STREAMS_APPLICATION_ID}</td><td>{@code metering-streams}</td></tr>
 *   <tr><td>{@code METERING_STREAMS_STATE_DIR}</td><td>{@code metering-streams-state} in the working directory; use a persistent volume</td></tr>
 *   <tr><td>{@code METERING_STREAMS_THREADS}</td><td>the processors the JVM sees, at most 8</td></tr>
 *   <tr><td>{@code METERING_STREAMS_PROCESSING_GUARANTEE}</td><td>{@code exactly_once_v2} ({@code at_least_once} for benchmarks only)</td></tr>
 *   <tr><td>{@code METERING_STREAMS_COMMIT_INTERVAL}</td><td>{@code 200ms}: changed aggregate rows are emitted and committed this often (Kafka Streams' own timer: 5 times it, at most 5 s, never below it); at most 5 s with exactly-once</td></tr>
 *   <tr><td>{@code METERING_CONVERSATION_TTL}</td><td>{@code 30d}: a conversation's totals are kept until it was idle this long</td></tr>
 *   <tr><td>{@code METERING_EVENT_LOG}</td><td>{@code off}; {@code on}: every counted event is written, priced, to {@code usage.priced}</td></tr>
 *   <tr><td>{@code METERING_STREAMS_METRICS_PORT}</td><td>9464; 0: any free port; -1: off</td></tr>
 *   <tr><td>{@code METERING_STREAMS_CREATE_TOPICS}</td><td>{@code true}</td></tr>
 *   <tr><td>{@code METERING_STREAMS_INSTANCE_ID}</td><td>this instance's {@code group.instance.id} (static membership:
 *       a restart takes its tasks back at once); default {@code <host name>-<8 hex digits of the state directory's path>},
 *       stable across restarts as long as the state directory is kept</td></tr>
 *   <tr><td>{@code METERING_STREAMS_SESSION_TIMEOUT}</td><td>{@code 10s}: how long an instance that died without a
 *       restart keeps its tasks before the others take them over</td></tr>
 *   <tr><td>{@code METERING_KAFKA_<PROPERTY>}</td><td>any Kafka client property, passed through</td></tr>
 * </table>
 */
public record StreamsAppConfig(
        Map<String, Object> clientProperties,
        Topics topics,
        Duration grace,
        Optional<BigDecimal> fallbackPricePer1kUsd,
        int partitions,
        Optional<Short> replicationFactor,
        String applicationId,
        Path stateDir,
        int threads,
        Guarantee guarantee,
        Duration commitInterval,
        int metricsPort,
        boolean createTopics,
        GroupMembership membership,
        Duration conversationTtl,
        boolean eventLog) {

    /** {@code processing.guarantee}. */
    public enum Guarantee {
        EXACTLY_ONCE_V2("exactly_once_v2"), AT_LEAST_ONCE("at_least_once");

        private final String value;

        Guarantee(String value) {
            this.value = value;
        }

        public String value() {
            return value;
        }
    }

    public StreamsAppConfig {
        clientProperties = Map.copyOf(clientProperties);
    }

    /** Relative to the working directory, not the OS temp directory, which may be cleaned while the service runs. */
    public static final String DEFAULT_STATE_DIR = "metering-streams-state";

    /**
     * One stream thread per processor, at most 8: under exactly-once a thread waits for its
     * transaction at every commit, and a second thread processes meanwhile. Threads beyond the
     * instance's partitions stay idle.
     */
    public static final int DEFAULT_THREADS = Math.min(Runtime.getRuntime().availableProcessors(), 8);

    /** Variables no longer read, refused with an explanation rather than silently ignored. */
    static final List<String> REMOVED = List.of("METERING_STREAMS_EMIT_INTERVAL");
    /** Kafka Streams' exactly-once producers abort a transaction after 10 s: half that, for the work of an interval. */
    static final Duration MAX_EXACTLY_ONCE_COMMIT_INTERVAL = Duration.ofSeconds(5);

    /** Reads and validates everything; throws one {@code ConfigException} listing every problem. */
    public static StreamsAppConfig from(ConfigSource source) {
        source.requiredString(KafkaClientProperties.BOOTSTRAP);
        source.requiredString(KafkaClientProperties.SCHEMA_REGISTRY_URL);
        Map<String, Object> clients = new TreeMap<>(KafkaClientProperties.passThrough(source));
        Topics topics = Topics.from(source);
        Duration grace = source.duration("METERING_GRACE", TopologyConfig.DEFAULT_GRACE);
        Optional<BigDecimal> fallback = Optional.ofNullable(source.decimal("METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD", null));
        fallback.ifPresent(usd -> {
            if (usd.stripTrailingZeros().scale() > 12) {
                source.problem("METERING_FALLBACK_PRICE_PER_1K_TOKENS_USD",
                        "'" + usd.toPlainString() + "' is finer than 1 femto-USD per token (at most 12 decimals)");
            }
        });
        int partitions = source.intInRange("METERING_TOPIC_PARTITIONS", 12, 1, 10_000);
        int rf = source.intInRange("METERING_TOPIC_REPLICATION_FACTOR", -1, -1, Short.MAX_VALUE);
        String applicationId = source.string("METERING_STREAMS_APPLICATION_ID", "metering-streams");
        Path stateDir = Path.of(source.string("METERING_STREAMS_STATE_DIR", DEFAULT_STATE_DIR));
        int threads = source.intInRange("METERING_STREAMS_THREADS", DEFAULT_THREADS, 1, 64);
        Guarantee guarantee = source.enumValue("METERING_STREAMS_PROCESSING_GUARANTEE", Guarantee.class,
                Guarantee.EXACTLY_ONCE_V2);
        Duration commit = source.duration("METERING_STREAMS_COMMIT_INTERVAL", Duration.ofMillis(200));
        if (commit.isZero()) {
            source.problem("METERING_STREAMS_COMMIT_INTERVAL", "must be greater than 0");
        } else if (guarantee == Guarantee.EXACTLY_ONCE_V2 && commit.compareTo(MAX_EXACTLY_ONCE_COMMIT_INTERVAL) > 0) {
            source.problem("METERING_STREAMS_COMMIT_INTERVAL", "must be at most 5s with exactly_once_v2: each interval's "
                    + "rows go out in one transaction, and the broker aborts a transaction open for 10 s");
        }
        for (String removed : REMOVED) {
            if (source.get(removed).isPresent()) {
                source.problem(removed, "is no longer used: the aggregate rows changed are emitted every "
                        + "METERING_STREAMS_COMMIT_INTERVAL");
            }
        }
        int metricsPort = source.intInRange("METERING_STREAMS_METRICS_PORT", 9464, -1, 65_535);
        boolean createTopics = source.bool("METERING_STREAMS_CREATE_TOPICS", true);
        Duration conversationTtl = source.duration("METERING_CONVERSATION_TTL", TopologyConfig.DEFAULT_CONVERSATION_TTL);
        if (conversationTtl.compareTo(Duration.ofHours(1)) < 0) {
            source.problem("METERING_CONVERSATION_TTL", "must be at least 1h");
        }
        boolean eventLog = source.onOff("METERING_EVENT_LOG", false);
        GroupMembership membership = GroupMembership.from(source, "METERING_STREAMS_INSTANCE_ID",
                defaultInstanceId(GroupMembership.hostName(source), stateDir), "METERING_STREAMS_SESSION_TIMEOUT");
        source.throwIfInvalid();
        return new StreamsAppConfig(clients, topics, grace, fallback, partitions,
                rf < 0 ? Optional.empty() : Optional.of((short) rf), applicationId, stateDir, threads, guarantee, commit,
                metricsPort, createTopics, membership, conversationTtl, eventLog);
    }

    /**
     * The host name and a digest of the state directory: stable across restarts, and distinct for
     * instances sharing a host (Kafka Streams refuses two instances on one state directory).
     */
    static String defaultInstanceId(String hostName, Path stateDir) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(stateDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            return hostName + "-" + HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }

    public StreamsAppConfig withGuarantee(Guarantee value) {
        return new StreamsAppConfig(clientProperties, topics, grace, fallbackPricePer1kUsd, partitions, replicationFactor,
                applicationId, stateDir, threads, value, commitInterval, metricsPort, createTopics, membership,
                conversationTtl, eventLog);
    }

    public StreamsAppConfig withApplicationId(String value) {
        return new StreamsAppConfig(clientProperties, topics, grace, fallbackPricePer1kUsd, partitions, replicationFactor,
                value, stateDir, threads, guarantee, commitInterval, metricsPort, createTopics, membership,
                conversationTtl, eventLog);
    }

    public StreamsAppConfig withStateDir(Path value) {
        return new StreamsAppConfig(clientProperties, topics, grace, fallbackPricePer1kUsd, partitions, replicationFactor,
                applicationId, value, threads, guarantee, commitInterval, metricsPort, createTopics, membership,
                conversationTtl, eventLog);
    }

    /** Only the Kafka client properties (no registry keys). */
    public Map<String, Object> kafkaProperties() {
        Map<String, Object> kafka = new TreeMap<>(clientProperties);
        kafka.keySet().removeIf(k -> k.startsWith("schema.registry.") || k.startsWith("basic.auth.")
                || k.startsWith("bearer.auth."));
        return kafka;
    }

    /** The topology's view of this configuration. */
    public TopologyConfig topology(java.time.Clock clock, int eventsPartitions) {
        return new TopologyConfig(topics, grace, TopologyConfig.DEFAULT_DEDUPE_MARGIN, fallbackPricePer1kUsd, eventsPartitions,
                conversationTtl, commitInterval, eventLog, clock);
    }
}
