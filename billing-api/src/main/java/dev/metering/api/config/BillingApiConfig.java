package dev.metering.api.config;

import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.ratelimit.RateLimitSettings;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.DbSettings;
import java.time.Duration;

/**
 * billing-api's typed configuration (docs/contract.md, Configuration), read once at start-up from {@code METERING_*}
 * variables (or a properties file with the same keys); every problem is reported at once.
 *
 * @param port            {@code METERING_API_PORT}, default 8080; 0 picks a free port
 * @param dbUrl           {@code METERING_DB_URL}, required (JDBC URL of PostgreSQL)
 * @param adminToken      {@code METERING_ADMIN_TOKEN}: the bootstrap admin key; null disables it
 * @param enforcement     {@code METERING_ENFORCEMENT} off|shadow|enforce, default enforce
 * @param canaryPercent   {@code METERING_ENFORCEMENT_CANARY_PERCENT} 0-100, default 0
 * @param maxStaleness    {@code METERING_MAX_STALENESS}, default 60s
 * @param stalePolicy     {@code METERING_STALE_POLICY} fail-open|fail-closed, default fail-open
 * @param dbPoolSize      {@code METERING_DB_POOL_SIZE}, default 16
 * @param kafka           Kafka and registry for ingest, prices and dead-letter decoding; null
 *                        when {@code METERING_KAFKA_BOOTSTRAP} is unset (those routes answer 503)
 * @param topics          from {@code METERING_TOPIC_PREFIX}: whose aggregates partitions in
 *                        {@code sink_progress} say how fresh usage is
 * @param eventLog        {@code METERING_EVENT_LOG} on|off, default off, as streams and sink read it:
 *                        whether {@code usage_events} is written, so the per-event routes can answer
 * @param reservationLockFreeFactor {@code METERING_RESERVATION_LOCK_FREE_FACTOR} 0-1000, default 32: a
 *                        reservation skips the org's exclusive lock when every limit has room for this many
 *                        times its amount (0: always lock; docs/contract.md, Reservations)
 * @param rateLimits      {@code METERING_API_RATE_LIMIT_*}: the API's own rate limits, per instance
 */
public record BillingApiConfig(
        int port,
        String dbUrl,
        String dbUser,
        String dbPassword,
        String adminToken,
        EnforcementMode enforcement,
        int canaryPercent,
        Duration maxStaleness,
        StalePolicy stalePolicy,
        int dbPoolSize,
        KafkaSettings kafka,
        Topics topics,
        boolean eventLog,
        int reservationLockFreeFactor,
        RateLimitSettings rateLimits) {

    /** With the default reservation lock-free factor and rate limits. */
    public BillingApiConfig(int port, String dbUrl, String dbUser, String dbPassword, String adminToken,
                            EnforcementMode enforcement, int canaryPercent, Duration maxStaleness,
                            StalePolicy stalePolicy, int dbPoolSize, KafkaSettings kafka, Topics topics,
                            boolean eventLog) {
        this(port, dbUrl, dbUser, dbPassword, adminToken, enforcement, canaryPercent, maxStaleness, stalePolicy,
                dbPoolSize, kafka, topics, eventLog, DEFAULT_LOCK_FREE_FACTOR, RateLimitSettings.DEFAULTS);
    }

    public static final int DEFAULT_LOCK_FREE_FACTOR = 32;

    /** Without the event log. */
    public BillingApiConfig(int port, String dbUrl, String dbUser, String dbPassword, String adminToken,
                            EnforcementMode enforcement, int canaryPercent, Duration maxStaleness,
                            StalePolicy stalePolicy, int dbPoolSize, KafkaSettings kafka, Topics topics) {
        this(port, dbUrl, dbUser, dbPassword, adminToken, enforcement, canaryPercent, maxStaleness, stalePolicy,
                dbPoolSize, kafka, topics, false);
    }

    /** With these Kafka settings (null: none) and their topics (the default ones without Kafka). */
    public BillingApiConfig(int port, String dbUrl, String dbUser, String dbPassword, String adminToken,
                            EnforcementMode enforcement, int canaryPercent, Duration maxStaleness,
                            StalePolicy stalePolicy, int dbPoolSize, KafkaSettings kafka) {
        this(port, dbUrl, dbUser, dbPassword, adminToken, enforcement, canaryPercent, maxStaleness, stalePolicy,
                dbPoolSize, kafka, kafka == null ? Topics.defaults() : kafka.topics());
    }

    /** Without Kafka. */
    public BillingApiConfig(int port, String dbUrl, String dbUser, String dbPassword, String adminToken,
                            EnforcementMode enforcement, int canaryPercent, Duration maxStaleness,
                            StalePolicy stalePolicy, int dbPoolSize) {
        this(port, dbUrl, dbUser, dbPassword, adminToken, enforcement, canaryPercent, maxStaleness, stalePolicy,
                dbPoolSize, null);
    }

    /** The same configuration with these Kafka settings. */
    public BillingApiConfig withKafka(KafkaSettings settings) {
        return new BillingApiConfig(port, dbUrl, dbUser, dbPassword, adminToken, enforcement, canaryPercent,
                maxStaleness, stalePolicy, dbPoolSize, settings, settings == null ? topics : settings.topics(), eventLog,
                reservationLockFreeFactor, rateLimits);
    }

    /** The same configuration with the event log on or off. */
    public BillingApiConfig withEventLog(boolean on) {
        return new BillingApiConfig(port, dbUrl, dbUser, dbPassword, adminToken, enforcement, canaryPercent,
                maxStaleness, stalePolicy, dbPoolSize, kafka, topics, on, reservationLockFreeFactor, rateLimits);
    }

    /** The same configuration with this reservation lock-free factor (0: every reservation locks). */
    public BillingApiConfig withReservationLockFreeFactor(int factor) {
        return new BillingApiConfig(port, dbUrl, dbUser, dbPassword, adminToken, enforcement, canaryPercent,
                maxStaleness, stalePolicy, dbPoolSize, kafka, topics, eventLog, factor, rateLimits);
    }

    /** The same configuration with these rate limits. */
    public BillingApiConfig withRateLimits(RateLimitSettings limits) {
        return new BillingApiConfig(port, dbUrl, dbUser, dbPassword, adminToken, enforcement, canaryPercent,
                maxStaleness, stalePolicy, dbPoolSize, kafka, topics, eventLog, reservationLockFreeFactor, limits);
    }

    public static BillingApiConfig from(ConfigSource source) {
        int port = source.intInRange("METERING_API_PORT", 8080, 0, 65535);
        DbSettings db = DbSettings.from(source);
        String admin = source.string("METERING_ADMIN_TOKEN", null);
        if (admin != null && admin.length() < 16) {
            source.problem("METERING_ADMIN_TOKEN", "must be at least 16 characters");
        }
        EnforcementMode mode = source.enumValue("METERING_ENFORCEMENT", EnforcementMode.class, EnforcementMode.ENFORCE);
        int canary = source.intInRange("METERING_ENFORCEMENT_CANARY_PERCENT", 0, 0, 100);
        Duration staleness = source.duration("METERING_MAX_STALENESS", Duration.ofSeconds(60));
        StalePolicy policy = source.enumValue("METERING_STALE_POLICY", StalePolicy.class, StalePolicy.FAIL_OPEN);
        int pool = source.intInRange("METERING_DB_POOL_SIZE", 16, 1, 512);
        boolean eventLog = source.onOff("METERING_EVENT_LOG", false);
        int lockFree = source.intInRange("METERING_RESERVATION_LOCK_FREE_FACTOR", DEFAULT_LOCK_FREE_FACTOR, 0, 1000);
        KafkaSettings kafka = KafkaSettings.from(source);
        Topics topics = kafka != null ? kafka.topics() : Topics.from(source);
        RateLimitSettings limits = RateLimitSettings.from(source);
        source.throwIfInvalid();
        return new BillingApiConfig(port, db.url(), db.user(), db.password(), admin, mode, canary, staleness, policy,
                pool, kafka, topics, eventLog, lockFree, limits);
    }

    public static BillingApiConfig fromEnvironment() {
        return from(ConfigSource.fromEnvironment());
    }

    @Override
    public String toString() {
        return "BillingApiConfig[port=" + port + ", dbUrl=" + dbUrl + ", dbUser=" + dbUser
                + ", adminToken=" + (adminToken == null ? "unset" : "***") + ", enforcement=" + enforcement
                + ", canaryPercent=" + canaryPercent + ", maxStaleness=" + maxStaleness + ", stalePolicy="
                + stalePolicy + ", dbPoolSize=" + dbPoolSize + ", kafka="
                + (kafka == null ? "unset" : kafka.bootstrapServers() + " " + kafka.topics().prefix())
                + ", eventLog=" + (eventLog ? "on" : "off") + ", reservationLockFreeFactor=" + reservationLockFreeFactor
                + ", rateLimits=" + rateLimits + "]";
    }
}
