package dev.metering.streams;

import dev.metering.events.config.ConfigException;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryException;
import dev.metering.streams.metrics.StreamsMetricsServer;
import dev.metering.streams.metrics.PrometheusMeteringMetrics;
import dev.metering.streams.validate.RegistryUnavailableException;
import dev.metering.streams.validate.ValidateStage;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link MeteringTopology}: {@code java -cp ... dev.metering.streams.StreamsApp} with the
 * {@code METERING_*} environment ({@link StreamsAppConfig}), or in-process with
 * {@link #start(StreamsAppConfig)} (the dev-mode launcher and end-to-end tests).
 *
 * <p>Start-up: validate the configuration (every problem at once), create missing topics,
 * build the topology with the events topic's real partition count, expose metrics, start.
 * Shutdown: {@link #close()} (also on SIGTERM from {@link #main}) closes Kafka Streams cleanly
 * (final commit). Errors: a schema registry outage (unreachable, 5xx or 429 for longer than
 * {@link ValidateStage#REGISTRY_WAIT}) replaces the stream thread after a growing backoff (up to
 * {@link #MAX_REGISTRY_BACKOFF}) for as long as the outage lasts, without counting it as a
 * failure: a registry outage stalls metering, it never stops it. Another transient failure
 * (retriable Kafka error) replaces the stream thread (its transaction aborts, the records are
 * processed again); anything else, or more than {@value #MAX_REPLACEMENTS} such replacements in
 * {@value #REPLACEMENT_WINDOW_MIN} minutes, shuts the client down with an error log naming the cause. Local state is never wiped
 * unconditionally: under exactly-once Kafka Streams itself restores it from the changelogs when
 * it is not trustworthy.
 */
public final class StreamsApp implements AutoCloseable {

    static final int MAX_REPLACEMENTS = 10;
    static final int REPLACEMENT_WINDOW_MIN = 5;
    static final Duration FIRST_REGISTRY_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_REGISTRY_BACKOFF = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(StreamsApp.class);

    private final KafkaStreams streams;
    private final PrometheusMeteringMetrics metrics;
    private final StreamsMetricsServer metricsServer;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile boolean failed;
    private final List<KafkaStreams.State> states = new CopyOnWriteArrayList<>();

    private StreamsApp(KafkaStreams streams, PrometheusMeteringMetrics metrics, StreamsMetricsServer metricsServer) {
        this.streams = streams;
        this.metrics = metrics;
        this.metricsServer = metricsServer;
    }

    public static void main(String[] args) {
        StreamsAppConfig config;
        try {
            config = StreamsAppConfig.from(ConfigSource.fromEnvironment());
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        StreamsApp app = start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "metering-streams-shutdown"));
        try {
            app.stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.exit(app.failed ? 1 : 0);
    }

    /** Starts the service with a registry client from the configuration and the system clock. */
    public static StreamsApp start(StreamsAppConfig config) {
        return start(config, registryClient(config.clientProperties()), Clock.systemUTC());
    }

    /**
     * The registry client of the stream: one request is bounded to a few seconds and not retried
     * by the client, because {@link ValidateStage} does the waiting within its bounded registry
     * wait (an exactly-once transaction must not stay open for minutes). Explicit settings win.
     */
    public static HttpSchemaRegistryClient registryClient(Map<String, ?> clientProperties) {
        Map<String, Object> p = new HashMap<>(clientProperties);
        putIfUnset(p, HttpSchemaRegistryClient.CONNECT_TIMEOUT_MS_CONFIG, "2000");
        putIfUnset(p, HttpSchemaRegistryClient.READ_TIMEOUT_MS_CONFIG, "3000");
        putIfUnset(p, HttpSchemaRegistryClient.MAX_RETRIES_CONFIG, "0");
        return HttpSchemaRegistryClient.fromConfig(p);
    }

    private static void putIfUnset(Map<String, Object> p, String key, String value) {
        if (!p.containsKey(key) && !p.containsKey("schema.registry." + key)) {
            p.put(key, value);
        }
    }

    /** Starts the service on a given registry client and clock. */
    public static StreamsApp start(StreamsAppConfig config, SchemaRegistryClient registry, Clock clock) {
        int partitions = TopicProvisioner.ensureTopics(config.kafkaProperties(), config.topics(), config.partitions(),
                config.replicationFactor(), config.createTopics());
        PrometheusMeteringMetrics metrics = new PrometheusMeteringMetrics(new PrometheusRegistry(), clock);
        MeteringSerdes serdes = MeteringSerdes.create(registry, config.clientProperties());
        Topology topology = MeteringTopology.build(config.topology(clock, partitions), serdes, metrics);
        KafkaStreams streams = new KafkaStreams(topology, streamsProperties(config));
        registerConsumerLag(metrics.registry(), streams, config.topics().events());
        StreamsMetricsServer server = null;
        if (config.metricsPort() >= 0) {
            try {
                server = StreamsMetricsServer.start(config.metricsPort(), metrics.registry());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot serve metrics on port " + config.metricsPort()
                        + " (METERING_STREAMS_METRICS_PORT): " + e.getMessage(), e);
            }
        }
        StreamsApp app = new StreamsApp(streams, metrics, server);
        streams.setUncaughtExceptionHandler(app.exceptionHandler());
        streams.setStateListener((now, before) -> {
            LOG.info("metering-streams {} -> {}", before, now);
            app.states.add(now);
            if (now == KafkaStreams.State.ERROR) {
                app.failed = true;
            }
            if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
                app.stopped.countDown();
            }
        });
        LOG.info("starting metering-streams: application.id={}, topics={}, guarantee={}, grace={}, state.dir={}, "
                + "group.instance.id={}, session timeout={}", config.applicationId(), config.topics(),
                config.guarantee().value(), config.grace(), config.stateDir(),
                config.membership().instanceId().orElse("(dynamic)"), config.membership().sessionTimeout().orElse(null));
        streams.start();
        return app;
    }

    /** {@code metering_streams_consumer_lag_records}: records not yet read from the events topic, over all partitions. */
    private static void registerConsumerLag(PrometheusRegistry registry, KafkaStreams streams, String eventsTopic) {
        GaugeWithCallback.builder().name("metering_streams_consumer_lag_records")
                .help("records of the usage events topic not yet consumed (sum over this instance's partitions)")
                .callback(callback -> {
                    double lag = 0;
                    for (Map.Entry<MetricName, ? extends Metric> m : streams.metrics().entrySet()) {
                        MetricName name = m.getKey();
                        if (name.name().equals("records-lag") && name.group().equals("consumer-fetch-manager-metrics")
                                && eventsTopic.equals(name.tags().get("topic"))) {
                            Object v = m.getValue().metricValue();
                            if (v instanceof Number n && !Double.isNaN(n.doubleValue())) {
                                lag += n.doubleValue();
                            }
                        }
                    }
                    callback.call(lag);
                })
                .register(registry);
    }

    /** Kafka Streams' own commit timer, in emission intervals (METERING_STREAMS_COMMIT_INTERVAL). */
    static final int COMMIT_TIMER_INTERVALS = 5;
    /**
     * The longest the timer is stretched to: a transaction holding only dead letters stays open until
     * the timer commits it, and exactly-once producers abort transactions older than 10 s.
     */
    static final Duration COMMIT_TIMER_MAX = Duration.ofSeconds(5);

    /** Kafka Streams' commit.interval.ms for an emission interval: five of them, at most 5 s, never below one. */
    static long commitTimerMillis(Duration emissionInterval) {
        long interval = emissionInterval.toMillis();
        return Math.max(interval, Math.min(interval * COMMIT_TIMER_INTERVALS, COMMIT_TIMER_MAX.toMillis()));
    }

    /** The Kafka Streams properties the service runs with (also used by the benchmark's framework floor). */
    public static Properties streamsProperties(StreamsAppConfig config) {
        Map<String, Object> p = new HashMap<>(config.kafkaProperties());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.guarantee().value());
        // each emission that changed rows asks for its commit at once (AggregateStage); the timer only
        // commits what no emission does (refused or duplicate events' offsets), so it need not double them
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitTimerMillis(config.commitInterval()));
        // the record cache holds only the busy aggregate rows' further writes within an emission epoch
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 64L << 20);
        p.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.threads());
        // static membership: a restarted instance rejoins as itself and gets its tasks back without
        // waiting for its previous incarnation's session to expire (Kafka Streams adds -<thread> per
        // thread); with the state directory kept, its process id and so its transactional ids are the
        // same too, so its producers' initialisation aborts the transactions the crash left open
        config.membership().applyTo(p);
        config.replicationFactor().ifPresent(rf -> p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) rf));
        p.putIfAbsent(StreamsConfig.producerPrefix("linger.ms"), 5);
        // every task reads two topics (the events and the rekey-by-org repartition topic, which is
        // empty unless a producer mis-keys); the result does not depend on interleaving them by
        // timestamp (stream time is the task's own, from occurredAt), so never wait for the empty
        // one: with the default (0) every record went through Kafka Streams' idling checks
        p.putIfAbsent(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, -1L);
        // route global-store processing errors through the processing exception handler (the 5.0 default)
        p.putIfAbsent("processing.exception.handler.global.enabled", true);
        Properties props = new Properties();
        props.putAll(p);
        return props;
    }

    private StreamsUncaughtExceptionHandler exceptionHandler() {
        Deque<Long> replacements = new ArrayDeque<>();
        RegistryBackoff registryBackoff = new RegistryBackoff(FIRST_REGISTRY_BACKOFF, MAX_REGISTRY_BACKOFF);
        return e -> {
            long now = System.currentTimeMillis();
            if (RegistryUnavailableException.isCause(e) || SchemaRegistryException.isTransient(e)) {
                Duration wait = registryBackoff.next(now);
                LOG.warn("schema registry unavailable: the stream thread gives its record back and is replaced in {} "
                        + "(an outage is waited out, not counted as a failure; nothing past the record is counted): {}",
                        wait, e.getMessage());
                try {
                    // the thread is dying anyway; waiting here spaces the replacements out
                    closing.await(wait.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
                return StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            synchronized (replacements) {
                while (!replacements.isEmpty() && replacements.peekFirst() < now - TimeUnit.MINUTES.toMillis(REPLACEMENT_WINDOW_MIN)) {
                    replacements.pollFirst();
                }
                if (isTransient(e) && replacements.size() < MAX_REPLACEMENTS) {
                    replacements.addLast(now);
                    LOG.warn("transient failure in a stream thread, replacing it (its transaction is aborted and its records "
                            + "processed again): {}", e.toString(), e);
                    return StreamThreadExceptionResponse.REPLACE_THREAD;
                }
            }
            failed = true;
            LOG.error("FATAL: metering-streams stops: {}. Fix the cause and restart; the committed state and offsets are "
                    + "consistent (exactly-once), nothing is lost.", e.toString(), e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        };
    }

    /** Retriable Kafka errors and an unreachable schema registry are transient; anything else is fatal. */
    static boolean isTransient(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RetriableException || t instanceof IOException
                    || t instanceof SchemaRegistryException registry && registry.isTransient()) {
                return true;
            }
        }
        return false;
    }

    public KafkaStreams streams() {
        return streams;
    }

    public PrometheusMeteringMetrics metrics() {
        return metrics;
    }

    /** The port metrics are served on, or -1 when off. */
    public int metricsPort() {
        return metricsServer == null ? -1 : metricsServer.port();
    }

    /** Every state the client went to since it started, in order. */
    public List<KafkaStreams.State> states() {
        return List.copyOf(states);
    }

    /** True when the client stopped because of an error. */
    public boolean failed() {
        return failed;
    }

    /** Waits until the client is RUNNING; false on timeout or when it stopped. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            KafkaStreams.State s = streams.state();
            if (s == KafkaStreams.State.RUNNING) {
                return true;
            }
            if (!s.isRunningOrRebalancing() && s != KafkaStreams.State.CREATED) {
                return false;
            }
            stopped.await(50, TimeUnit.MILLISECONDS);
        }
        return false;
    }

    /**
     * Clean shutdown: final commit, state checkpointed, and the consumer group left, so that a
     * restarted or remaining instance takes the partitions over at once instead of after the
     * session timeout (aggregates would stop for that long); at most 60 s.
     */
    @Override
    public void close() {
        closing.countDown();
        streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(60)));
        if (metricsServer != null) {
            metricsServer.close();
        }
        stopped.countDown();
    }
}
