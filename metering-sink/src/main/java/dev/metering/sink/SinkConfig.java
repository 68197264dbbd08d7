package dev.metering.sink;

import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.DbSettings;
import dev.metering.events.config.GroupMembership;
import dev.metering.events.config.KafkaClientProperties;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * The sink's configuration (docs/contract.md, Configuration), validated once at start-up.
 *
 * <table>
 *   <caption>variables</caption>
 *   <tr><td>METERING_KAFKA_BOOTSTRAP</td><td>required</td></tr>
 *   <tr><td>METERING_SCHEMA_REGISTRY_URL</td><td>required</td></tr>
 *   <tr><td>METERING_SCHEMA_REGISTRY_AUTH</td><td>optional {@code user:password}</td></tr>
 *   <tr><td>METERING_TOPIC_PREFIX</td><td>default {@code metering.}</td></tr>
 *   <tr><td>METERING_DB_URL, METERING_DB_USER, METERING_DB_PASSWORD</td><td>URL required, {@code jdbc:postgresql:}</td></tr>
 *   <tr><td>METERING_SINK_GROUP_ID</td><td>default {@code metering-sink}</td></tr>
 *   <tr><td>METERING_SINK_BATCH_SIZE</td><td>records per transaction, default 5000 (1-100000)</td></tr>
 *   <tr><td>METERING_SINK_BATCH_LINGER</td><td>how long a batch waits to fill, default {@code 50ms}</td></tr>
 *   <tr><td>METERING_SINK_RETRY_BACKOFF_MAX</td><td>cap of the retry backoff, default {@code 30s}</td></tr>
 *   <tr><td>METERING_SINK_HEARTBEAT</td><td>while idle and caught up, how often {@code sink_progress.written_at} is moved to now, default {@code 5s}</td></tr>
 *   <tr><td>METERING_SINK_METRICS_PORT</td><td>Prometheus {@code /metrics} port, default 9402; 0 any free port; -1 off</td></tr>
 *   <tr><td>METERING_SINK_MIGRATE</td><td>apply Flyway migrations at start, default true</td></tr>
 *   <tr><td>METERING_EVENT_LOG</td><td>{@code on}: write every counted event to {@code usage_events}; default {@code off}</td></tr>
 *   <tr><td>METERING_EVENT_LOG_RETENTION</td><td>days of {@code usage_events} kept, default {@code 35d} (at least {@code 3d})</td></tr>
 *   <tr><td>METERING_CONVERSATION_TTL</td><td>a conversation's totals are deleted once it was idle this long, default {@code 30d}</td></tr>
 *   <tr><td>METERING_SINK_INSTANCE_ID</td><td>this instance's {@code group.instance.id} (static membership: a restart
 *       takes its partitions back at once), default the host name; give each instance on one host its own</td></tr>
 *   <tr><td>METERING_SINK_SESSION_TIMEOUT</td><td>how long an instance that died without a restart keeps its
 *       partitions before the others take them over, default {@code 10s}</td></tr>
 *   <tr><td>METERING_STREAMS_APPLICATION_ID</td><td>the streams application whose progress on the events topic the sink watches, default {@code metering-streams} (as streams itself defaults it)</td></tr>
 *   <tr><td>METERING_STREAMS_COMMIT_INTERVAL</td><td>the streams' commit (and emission) interval, default {@code 200ms}: usage_as_of waits for the emission that follows a commit</td></tr>
 *   <tr><td>METERING_MAX_STALENESS</td><td>a stage behind by more than this is logged as stalled, default {@code 60s}</td></tr>
 *   <tr><td>METERING_KAFKA_*</td><td>any other Kafka client property, e.g. {@code METERING_KAFKA_SECURITY_PROTOCOL}</td></tr>
 * </table>
 *
 * @param clientProperties Kafka client and schema registry properties (bootstrap, pass-through, registry)
 * @param streamsApplicationId the {@code application.id} of metering-streams: its committed offsets on the
 *                             events topic tell how far the pipeline got (see {@link PipelineWatch})
 */
public record SinkConfig(Topics topics, String dbUrl, String dbUser, String dbPassword, String groupId,
                         int batchSize, Duration batchLinger, Duration retryBackoffMax, Duration heartbeat, int metricsPort,
                         boolean migrate, GroupMembership membership, Map<String, Object> clientProperties,
                         boolean eventLog, Duration eventLogRetention, Duration conversationTtl, String streamsApplicationId,
                         Duration maxStaleness, Duration streamsCommitInterval) {

    public static final String DEFAULT_STREAMS_APPLICATION_ID = "metering-streams";
    public static final Duration DEFAULT_MAX_STALENESS = Duration.ofSeconds(60);
    /** Kafka Streams' own rule for {@code application.id} (it prefixes internal topics and the group). */
    private static final java.util.regex.Pattern APPLICATION_ID = java.util.regex.Pattern.compile("[a-zA-Z0-9._-]{1,200}");

    public static final String GROUP_ID = "METERING_SINK_GROUP_ID";
    public static final String BATCH_SIZE = "METERING_SINK_BATCH_SIZE";
    public static final String BATCH_LINGER = "METERING_SINK_BATCH_LINGER";
    public static final String RETRY_BACKOFF_MAX = "METERING_SINK_RETRY_BACKOFF_MAX";
    public static final String HEARTBEAT = "METERING_SINK_HEARTBEAT";
    public static final String METRICS_PORT = "METERING_SINK_METRICS_PORT";
    public static final String MIGRATE = "METERING_SINK_MIGRATE";
    public static final String EVENT_LOG = "METERING_EVENT_LOG";
    public static final String EVENT_LOG_RETENTION = "METERING_EVENT_LOG_RETENTION";
    public static final String CONVERSATION_TTL = "METERING_CONVERSATION_TTL";
    public static final String INSTANCE_ID = "METERING_SINK_INSTANCE_ID";
    public static final String SESSION_TIMEOUT = "METERING_SINK_SESSION_TIMEOUT";
    public static final String STREAMS_APPLICATION_ID = "METERING_STREAMS_APPLICATION_ID";
    public static final String MAX_STALENESS = "METERING_MAX_STALENESS";
    public static final String STREAMS_COMMIT_INTERVAL = "METERING_STREAMS_COMMIT_INTERVAL";
    public static final Duration DEFAULT_STREAMS_COMMIT_INTERVAL = Duration.ofMillis(200);

    public SinkConfig {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(dbUrl, "dbUrl");
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(membership, "membership");
        Objects.requireNonNull(streamsApplicationId, "streamsApplicationId");
        Objects.requireNonNull(maxStaleness, "maxStaleness");
        clientProperties = Map.copyOf(clientProperties);
    }

    /**
     * Dynamic membership, the client's session timeout, no event log, the default conversation TTL,
     * streams application id and staleness (tests, benchmarks).
     */
    public SinkConfig(Topics topics, String dbUrl, String dbUser, String dbPassword, String groupId, int batchSize,
                      Duration batchLinger, Duration retryBackoffMax, Duration heartbeat, int metricsPort, boolean migrate,
                      Map<String, Object> clientProperties) {
        this(topics, dbUrl, dbUser, dbPassword, groupId, batchSize, batchLinger, retryBackoffMax, heartbeat, metricsPort,
                migrate, GroupMembership.dynamic(), clientProperties, false, Duration.ofDays(35), Duration.ofDays(30),
                DEFAULT_STREAMS_APPLICATION_ID, DEFAULT_MAX_STALENESS, DEFAULT_STREAMS_COMMIT_INTERVAL);
    }

    /** A copy with the event log on or off (tests, benchmarks). */
    public SinkConfig withEventLog(boolean on) {
        return new SinkConfig(topics, dbUrl, dbUser, dbPassword, groupId, batchSize, batchLinger, retryBackoffMax, heartbeat,
                metricsPort, migrate, membership, clientProperties, on, eventLogRetention, conversationTtl, streamsApplicationId,
                maxStaleness, streamsCommitInterval);
    }

    /**
     * Reads and validates every variable.
     *
     * @throws dev.metering.events.config.ConfigException listing every problem, each with its variable name
     */
    public static SinkConfig from(ConfigSource source) {
        source.requiredString(KafkaClientProperties.BOOTSTRAP);
        source.requiredString(KafkaClientProperties.SCHEMA_REGISTRY_URL);
        Map<String, Object> client = KafkaClientProperties.passThrough(source);
        DbSettings db = DbSettings.from(source);
        Topics topics = Topics.from(source);
        String groupId = source.string(GROUP_ID, "metering-sink");
        int batchSize = source.intInRange(BATCH_SIZE, 5000, 1, 100_000);
        Duration linger = source.duration(BATCH_LINGER, Duration.ofMillis(50));
        Duration backoffMax = source.duration(RETRY_BACKOFF_MAX, Duration.ofSeconds(30));
        if (backoffMax.isZero()) {
            source.problem(RETRY_BACKOFF_MAX, "must be greater than 0");
        }
        Duration heartbeat = source.duration(HEARTBEAT, Duration.ofSeconds(5));
        if (heartbeat.isZero()) {
            source.problem(HEARTBEAT, "must be greater than 0");
        }
        int metricsPort = source.intInRange(METRICS_PORT, 9402, -1, 65535);
        boolean migrate = source.bool(MIGRATE, true);
        boolean eventLog = source.onOff(EVENT_LOG, false);
        Duration retention = source.duration(EVENT_LOG_RETENTION, Duration.ofDays(35));
        if (retention.compareTo(Duration.ofDays(3)) < 0) {
            source.problem(EVENT_LOG_RETENTION, "must be at least 3d (the grace period plus a day)");
        }
        Duration conversationTtl = source.duration(CONVERSATION_TTL, Duration.ofDays(30));
        if (conversationTtl.compareTo(Duration.ofHours(1)) < 0) {
            source.problem(CONVERSATION_TTL, "must be at least 1h");
        }
        GroupMembership membership = GroupMembership.from(source, INSTANCE_ID, GroupMembership.hostName(source),
                SESSION_TIMEOUT);
        String streamsId = source.string(STREAMS_APPLICATION_ID, DEFAULT_STREAMS_APPLICATION_ID);
        if (!APPLICATION_ID.matcher(streamsId).matches()) {
            source.problem(STREAMS_APPLICATION_ID, "'" + streamsId + "' is not a Kafka Streams application id "
                    + "(1-200 of a-z A-Z 0-9 . _ -)");
        }
        Duration maxStaleness = source.duration(MAX_STALENESS, DEFAULT_MAX_STALENESS);
        if (maxStaleness.isZero()) {
            source.problem(MAX_STALENESS, "must be greater than 0");
        }
        Duration streamsCommit = source.duration(STREAMS_COMMIT_INTERVAL, DEFAULT_STREAMS_COMMIT_INTERVAL);
        if (streamsCommit.isZero()) {
            source.problem(STREAMS_COMMIT_INTERVAL, "must be greater than 0");
        }
        source.throwIfInvalid();
        return new SinkConfig(topics, db.url(), db.user(), db.password(), groupId, batchSize, linger, backoffMax,
                heartbeat, metricsPort, migrate, membership, client, eventLog, retention, conversationTtl, streamsId,
                maxStaleness, streamsCommit);
    }

    /** A copy with another consumer group (tests, benchmarks). */
    public SinkConfig withGroupId(String newGroupId) {
        return new SinkConfig(topics, dbUrl, dbUser, dbPassword, newGroupId, batchSize, batchLinger,
                retryBackoffMax, heartbeat, metricsPort, migrate, membership, clientProperties, eventLog, eventLogRetention,
                conversationTtl, streamsApplicationId, maxStaleness, streamsCommitInterval);
    }

    /** A copy watching another streams application (tests). */
    public SinkConfig withStreamsApplicationId(String applicationId) {
        return new SinkConfig(topics, dbUrl, dbUser, dbPassword, groupId, batchSize, batchLinger,
                retryBackoffMax, heartbeat, metricsPort, migrate, membership, clientProperties, eventLog, eventLogRetention,
                conversationTtl, applicationId, maxStaleness, streamsCommitInterval);
    }

    @Override
    public String toString() {
        return "SinkConfig[topics=" + topics + ", dbUrl=" + dbUrl + ", dbUser=" + dbUser + ", groupId=" + groupId
                + ", batchSize=" + batchSize + ", batchLinger=" + batchLinger + ", retryBackoffMax="
                + retryBackoffMax + ", heartbeat=" + heartbeat + ", metricsPort=" + metricsPort + ", migrate="
                + migrate + ", groupInstanceId=" + membership.instanceId().orElse("(dynamic)") + ", sessionTimeout="
                + membership.sessionTimeout().map(Duration::toString).orElse("(client default)") + ", eventLog=" + eventLog
                + ", eventLogRetention=" + eventLogRetention + ", conversationTtl=" + conversationTtl
                + ", streamsApplicationId=" + streamsApplicationId + ", maxStaleness=" + maxStaleness + "]";
    }
}
