package dev.metering.sink;

import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.db.Migrations;
import dev.metering.events.config.ConfigException;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink service: {@code main} for a process of its own, {@link #start(SinkConfig)} for running
 * it in-process (dev mode, end-to-end tests).
 */
public final class SinkApp {

    /** How often the housekeeping runs (idle conversations, event log partitions). */
    static final Duration MAINTENANCE_EVERY = Duration.ofMinutes(10);

    private static final Logger log = LoggerFactory.getLogger(SinkApp.class);

    private SinkApp() {
    }

    /**
     * Runs the sink until SIGTERM/SIGINT. Configuration from the environment, or from a properties
     * file given as the only argument (the environment overrides the file). Exit code 2 on invalid
     * configuration (every problem printed), 1 when the sink stops on a failure.
     */
    public static void main(String[] args) throws InterruptedException {
        SinkConfig config;
        try {
            ConfigSource source = args.length > 0
                    ? ConfigSource.fromPropertiesFile(Path.of(args[0])).overriddenBy(ConfigSource.fromEnvironment())
                    : ConfigSource.fromEnvironment();
            config = SinkConfig.from(source);
        } catch (ConfigException e) {
            System.err.println("metering-sink: invalid configuration:");
            e.problems().forEach(p -> System.err.println("  " + p));
            System.exit(2);
            return;
        }
        RunningSink sink = start(config);
        // SIGTERM: stop polling, finish or abandon the batch in flight (never commit an offset
        // whose records are not in the database), commit, close
        Runtime.getRuntime().addShutdownHook(new Thread(sink::close, "metering-sink-shutdown"));
        sink.awaitTermination();
        if (sink.failure() != null) {
            System.exit(1);
        }
    }

    /** Starts the sink on a thread of its own; {@link RunningSink#close()} stops it. */
    public static RunningSink start(SinkConfig config) {
        return start(config, Clock.systemUTC(), SinkLoop.Hooks.NONE);
    }

    static RunningSink start(SinkConfig config, Clock clock, SinkLoop.Hooks hooks) {
        if (config.migrate()) {
            int applied = Migrations.migrate(config.dbUrl(), config.dbUser(), config.dbPassword());
            log.info("database migrated ({} scripts applied)", applied);
        }
        SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(config.clientProperties());
        Map<String, Object> serdeConfig = new HashMap<>(config.clientProperties());
        serdeConfig.put("specific.avro.reader", true);
        String priced = config.eventLog() ? config.topics().priced() : null;
        RecordDecoder decoder = new RecordDecoder(config.topics().aggregates(), config.topics().deadLetters(),
                AvroSerdes.specific(UsageWindowKey.class, registry, serdeConfig, true).deserializer(),
                AvroSerdes.specific(UsageWindowTotals.class, registry, serdeConfig, false).deserializer(),
                AvroSerdes.specific(UsageEvent.class, registry, serdeConfig, false).deserializer(),
                priced, AvroSerdes.specific(PricedUsageEvent.class, registry, serdeConfig, false).deserializer());
        PrometheusRegistry metricsRegistry = new PrometheusRegistry();
        SinkMetrics metrics = new SinkMetrics(metricsRegistry);
        MetricsServer metricsServer = null;
        if (config.metricsPort() >= 0) {
            try {
                metricsServer = MetricsServer.start(config.metricsPort(), metricsRegistry);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot serve metrics on port " + config.metricsPort(), e);
            }
        }
        Consumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties(config),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        EventLogWriter eventLog = config.eventLog() ? new EventLogWriter(config.eventLogRetention()) : null;
        SinkWriter writer = new SinkWriter(config.dbUrl(), config.dbUser(), config.dbPassword(), clock, eventLog);
        SinkLoop loop = new SinkLoop(consumer, decoder, writer, metrics, new LoopSettings(
                config.topics().aggregates(), config.topics().deadLetters(), config.batchSize(), config.batchLinger(),
                Duration.ofMillis(100), config.retryBackoffMax(), 2, config.heartbeat(),
                priced == null ? List.of() : List.of(priced)), clock, hooks);
        SinkMaintenance maintenance = new SinkMaintenance(config.dbUrl(),
                SinkWriter.connectionProperties(config.dbUser(), config.dbPassword()), clock, config.conversationTtl(),
                eventLog, config.eventLogRetention());
        Thread thread = new Thread(loop, "metering-sink");
        thread.start();
        maintenance.start(MAINTENANCE_EVERY);
        Watcher watcher = Watcher.start(config, loop, metrics, clock);
        log.info("metering-sink started: {}", config);
        return new RunningSink(loop, thread, metricsServer, metrics, maintenance, watcher);
    }

    /** The admin client properties: the pass-through client settings without the registry's. */
    static Map<String, Object> adminProperties(SinkConfig config) {
        Map<String, Object> properties = new HashMap<>(config.clientProperties());
        properties.keySet().removeIf(k -> k.startsWith("schema.registry.") || k.startsWith("basic.auth.")
                || k.startsWith("bearer.auth.") || k.equals("specific.avro.reader"));
        properties.put("client.id", "metering-sink-watch");
        return properties;
    }

    /** The {@link PipelineWatch} on a thread of its own, ticking every heartbeat interval. */
    private record Watcher(ScheduledExecutorService thread, AdminBroker broker, SinkWriter writer) {

        static Watcher start(SinkConfig config, SinkLoop loop, SinkMetrics metrics, Clock clock) {
            AdminBroker broker = new AdminBroker(adminProperties(config), WATCH_BROKER_TIMEOUT);
            SinkWriter writer = new SinkWriter(config.dbUrl(), config.dbUser(), config.dbPassword(), clock);
            String aggregates = config.topics().aggregates();
            PipelineWatch watch = new PipelineWatch(broker,
                    (usage, streams, owned) -> writer.pipelineProgress(aggregates, usage, streams, owned),
                    loop::writtenOffsets, config.topics().events(), aggregates, config.streamsApplicationId(),
                    config.maxStaleness(), emissionDelay(config), clock, metrics);
            ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "metering-sink-pipeline-watch");
                t.setDaemon(true);
                return t;
            });
            long every = config.heartbeat().toMillis();
            thread.scheduleWithFixedDelay(watch::tick, every, every, TimeUnit.MILLISECONDS);
            return new Watcher(thread, broker, writer);
        }

        void close() {
            thread.shutdownNow();
            try {
                thread.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            broker.close();
            writer.close();
        }
    }

    /** How long one pipeline watch call may wait for the broker. */
    private static final Duration WATCH_BROKER_TIMEOUT = Duration.ofSeconds(5);

    /** The one conversion from the typed config to consumer properties. */
    /**
     * How long after streams committed an input its changed rows are surely in the aggregates
     * topic: streams emits them at its next emission (every commit interval) and commits that
     * transaction an interval later at most.
     */
    static Duration emissionDelay(SinkConfig config) {
        return config.streamsCommitInterval().multipliedBy(2).plusMillis(200);
    }

    /** The one conversion from the typed config to consumer properties. */
    static Map<String, Object> consumerProperties(SinkConfig config) {
        Map<String, Object> properties = new HashMap<>();
        // pass-through first, so the sink's own guarantees below cannot be overridden by accident
        properties.putAll(config.clientProperties());
        properties.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        // static membership: a restarted sink gets its partitions back without a wait for its
        // previous incarnation's session to expire
        config.membership().applyTo(properties);
        properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        properties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.batchSize());
        properties.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "metering-sink");
        return properties;
    }

    /** A sink running on its own thread. */
    public static final class RunningSink implements AutoCloseable {
        private final SinkLoop loop;
        private final Thread thread;
        private final MetricsServer metricsServer;
        private final SinkMetrics metrics;
        private final Watcher watcher;

        private final SinkMaintenance maintenance;

        RunningSink(SinkLoop loop, Thread thread, MetricsServer metricsServer, SinkMetrics metrics,
                    SinkMaintenance maintenance, Watcher watcher) {
            this.maintenance = maintenance;
            this.watcher = watcher;
            this.loop = loop;
            this.thread = thread;
            this.metricsServer = metricsServer;
            this.metrics = metrics;
        }

        /** The port {@code /metrics} is served on, or -1 when metrics are off. */
        public int metricsPort() {
            return metricsServer == null ? -1 : metricsServer.port();
        }

        /** The metrics registry (for an embedding launcher that serves metrics itself). */
        public PrometheusRegistry metricsRegistry() {
            return metrics.registry;
        }

        /** Whether the sink thread is still running. */
        public boolean isRunning() {
            return !loop.isStopped();
        }

        /** Why the sink stopped, or null (still running, or stopped by {@link #close()}). */
        public Throwable failure() {
            return loop.failure();
        }

        /** Blocks until the sink stops. */
        public void awaitTermination() throws InterruptedException {
            thread.join();
        }

        /**
         * Stops the sink: the consumer is woken up, a batch already in the database gets its offsets
         * committed, a batch not yet written is abandoned uncommitted (read again on restart).
         */
        @Override
        public void close() {
            maintenance.close();
            watcher.close();
            loop.shutdown();
            try {
                if (!loop.awaitStopped(Duration.ofSeconds(30))) {
                    log.warn("metering-sink did not stop within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (metricsServer != null) {
                metricsServer.close();
            }
        }
    }
}
