package dev.metering.app;

import dev.metering.api.audit.Actor;
import dev.metering.api.BillingApi;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.config.KafkaSettings;
import dev.metering.app.prices.PriceBooks;
import dev.metering.db.Migrations;
import dev.metering.devstack.KafkaBroker;
import dev.metering.devstack.PortInUseException;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.SchemaRegistryServer;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.store.PlanRepository;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.KafkaClientProperties;
import dev.metering.streams.TopicProvisioner;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The whole pipeline in this JVM on real local infrastructure (docs/architecture.md, Real parts everywhere): PostgreSQL, a KRaft
 * broker and Apicurio Registry as child processes, then migrations, the streams service, the sink
 * and the billing API in-process. {@link #close()} stops everything in reverse order; the
 * devstack's children also die with this JVM whatever the cause.
 */
final class DevStack implements AutoCloseable {

    /** Where things listen and live; port 0 picks a free port (benchmarks, tests). */
    record Settings(Path dataDir, int kafkaPort, int registryPort, int postgresPort, int apiPort, String adminToken,
                    int partitions, Map<String, String> extraEnv) {
    }

    /** What a separate {@code streams}, {@code sink} or {@code api} process needs to join this stack. */
    static final java.util.List<String> SERVICE_VARIABLES = java.util.List.of("METERING_KAFKA_BOOTSTRAP",
            "METERING_SCHEMA_REGISTRY_URL", "METERING_DB_URL", "METERING_DB_USER", "METERING_DB_PASSWORD",
            "METERING_ADMIN_TOKEN", "METERING_API_PORT", "METERING_TOPIC_PARTITIONS", "METERING_STREAMS_STATE_DIR",
            "METERING_SINK_MIGRATE", "METERING_EVENT_LOG");

    private final Settings settings;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private PostgresServer postgres;
    private KafkaBroker kafka;
    private SchemaRegistryServer registry;
    private StreamsApp streams;
    private String streamsApplicationId;
    private SinkApp.RunningSink sink;
    private BillingApi api;

    private DevStack(Settings settings) {
        this.settings = settings;
    }

    /** Starts everything, reporting each step to {@code progress}; on failure stops what was started. */
    static DevStack start(Settings settings, Consumer<String> progress) {
        return start(settings, progress, true);
    }

    /**
     * Starts PostgreSQL, the broker and the registry and applies the migrations, but none of the
     * services: those run as separate processes with {@link #env()} ({@code dev --infra-only}).
     */
    static DevStack startInfrastructure(Settings settings, Consumer<String> progress) {
        return start(settings, progress, false);
    }

    private static DevStack start(Settings settings, Consumer<String> progress, boolean services) {
        Ports.requireFree(settings.postgresPort(), "PostgreSQL");
        Ports.requireFree(settings.kafkaPort(), "Kafka");
        Ports.requireFree(settings.registryPort(), "schema registry");
        if (services) {
            Ports.requireFree(settings.apiPort(), "billing API");
        }
        DevStack stack = new DevStack(settings);
        try {
            stack.startInfrastructure(progress);
            if (services) {
                stack.startServices(progress);
            }
            return stack;
        } catch (PortInUseException e) {
            stack.close();
            throw new UserException(e.getMessage() + "; stop what uses it or pick another port (see --help)", 1, e);
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startInfrastructure(Consumer<String> progress) {
        Path logs = settings.dataDir().resolve("logs");
        long t0 = System.nanoTime();
        postgres = track(PostgresServer.start(PostgresServer.Options.defaults().withPort(settings.postgresPort())
                .withDurable(true).withDataDir(settings.dataDir().resolve("postgres")).withLogDir(logs)));
        progress.accept("PostgreSQL   " + postgres.jdbcUrl() + " (" + secondsSince(t0) + ")");
        t0 = System.nanoTime();
        kafka = track(KafkaBroker.start(KafkaBroker.Options.defaults().withPort(settings.kafkaPort())
                .withDataDir(settings.dataDir().resolve("kafka")).withLogDir(logs)));
        progress.accept("Kafka        " + kafka.bootstrapServers() + " (" + secondsSince(t0) + ")");
        t0 = System.nanoTime();
        registry = track(SchemaRegistryServer.start(SchemaRegistryServer.Options.defaults().withPort(settings.registryPort())
                .withDataDir(settings.dataDir().resolve("registry")).withLogDir(logs)));
        progress.accept("Registry     " + registry.confluentUrl() + " (" + secondsSince(t0) + ")");
        t0 = System.nanoTime();
        int applied = Migrations.migrate(postgres.jdbcUrl(), postgres.user(), postgres.password());
        progress.accept("Migrations   " + applied + " applied (" + secondsSince(t0) + ")");
    }

    private void startServices(Consumer<String> progress) {
        Map<String, String> env = env();
        long t0 = System.nanoTime();
        StreamsAppConfig streamsConfig = StreamsAppConfig.from(ConfigSource.of(env));
        streamsApplicationId = streamsConfig.applicationId();
        streams = track(StreamsApp.start(streamsConfig));
        progress.accept("Streams      started (" + secondsSince(t0) + ")");
        sink = track(SinkApp.start(SinkConfig.from(ConfigSource.of(env))));
        api = track(BillingApi.start(BillingApiConfig.from(ConfigSource.of(env)), Clock.systemUTC()));
        progress.accept("Sink and API started");
    }

    /** The {@code METERING_*} configuration the in-process services run with (docs/contract.md, Configuration). */
    Map<String, String> env() {
        Map<String, String> env = new TreeMap<>(settings.extraEnv());
        env.put("METERING_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
        env.put("METERING_SCHEMA_REGISTRY_URL", registry.confluentUrl());
        env.put("METERING_DB_URL", postgres.jdbcUrl());
        env.put("METERING_DB_USER", postgres.user());
        env.put("METERING_DB_PASSWORD", postgres.password());
        env.put("METERING_API_PORT", Integer.toString(settings.apiPort()));
        env.put("METERING_ADMIN_TOKEN", settings.adminToken());
        env.putIfAbsent("METERING_TOPIC_PARTITIONS", Integer.toString(settings.partitions()));
        env.put("METERING_STREAMS_STATE_DIR", settings.dataDir().resolve("streams").toAbsolutePath().toString());
        env.putIfAbsent("METERING_STREAMS_METRICS_PORT", "-1");
        env.putIfAbsent("METERING_SINK_METRICS_PORT", "-1");
        env.put("METERING_SINK_MIGRATE", "false");
        // dev mode keeps every counted event with its cost (usage_events), (docs/contract.md, PostgreSQL)
        env.putIfAbsent("METERING_EVENT_LOG", "on");
        return env;
    }

    /** Stores a price book CSV in PostgreSQL and publishes it to the prices topic; returns the number of models. */
    int applyPrices(String csv, String origin) {
        return PriceBooks.apply(csv, origin, postgres.jdbcUrl(), postgres.user(), postgres.password(),
                KafkaSettings.of(kafka.bootstrapServers(), registry.confluentUrl(), topics())).models();
    }

    /** The topics the streams service would create, for prices applied before it runs. */
    void createTopics() {
        TopicProvisioner.ensureTopics(KafkaClientProperties.kafka(ConfigSource.of(env())), topics(), settings.partitions(),
                java.util.Optional.empty(), true);
    }

    /** Stores {@code source} as the plan catalog unless one is stored; returns whether it stored it. */
    boolean storePlansIfNoneStored(String source, CatalogParser.Format format, String origin) {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(),
                postgres.password())) {
            PlanRepository plans = new PlanRepository(DSL.using(c, SQLDialect.POSTGRES));
            if (plans.latest().isPresent()) {
                return false;
            }
            plans.store(CatalogParser.parse(source, format), format, source, Actor.tool("dev", Clock.systemUTC().instant()));
            return true;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot store the plan catalog " + origin + ": " + e.getMessage(), e);
        }
    }

    dev.metering.events.Topics topics() {
        ConfigSource source = ConfigSource.of(env());
        dev.metering.events.Topics topics = dev.metering.events.Topics.from(source);
        source.throwIfInvalid();
        return topics;
    }

    private <T extends AutoCloseable> T track(T service) {
        started.push(service);
        return service;
    }


    private static String secondsSince(long t0) {
        return String.format("%.1f s", (System.nanoTime() - t0) / 1e9);
    }

    KafkaBroker kafka() {
        return kafka;
    }

    SchemaRegistryServer registry() {
        return registry;
    }

    PostgresServer postgres() {
        return postgres;
    }

    /** The streams service's application id (its threads' names start with it), null before it started. */
    String streamsApplicationId() {
        return streamsApplicationId;
    }

    StreamsApp streams() {
        return streams;
    }

    SinkApp.RunningSink sink() {
        return sink;
    }

    BillingApi api() {
        return api;
    }

    String apiUrl() {
        return "http://127.0.0.1:" + api.port();
    }

    Settings settings() {
        return settings;
    }

    /** Stops the services, then the infrastructure; each step guarded so one failure stops nothing else. */
    @Override
    public synchronized void close() {
        while (!started.isEmpty()) {
            AutoCloseable next = started.pop();
            try {
                next.close();
            } catch (Exception e) {
                System.err.println("while stopping " + next.getClass().getSimpleName() + ": " + e);
            }
        }
    }

    static Duration since(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos);
    }
}
