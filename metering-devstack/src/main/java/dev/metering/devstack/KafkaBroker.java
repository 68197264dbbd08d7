package dev.metering.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A real single-node Apache Kafka broker in KRaft mode (combined broker and controller), run in a
 * child JVM from the Kafka broker artifacts on this JVM's classpath.
 *
 * <p>Configured for one node: replication factor 1 and min ISR 1 for the internal topics (consumer
 * offsets, transaction state, share-group state), so idempotent producers, transactions and Kafka
 * Streams {@code exactly_once_v2} work; no initial rebalance delay. Listens on 127.0.0.1 only.
 *
 * <p>{@link #stop()} shuts the broker down and keeps its data; {@link #start()} starts it again on
 * the same port and data, e.g. to test an outage. The broker's log goes to
 * {@code <logDir>/kafka-<port>.log}. The child JVM exits when this JVM exits, however it exits.
 */
public final class KafkaBroker implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(KafkaBroker.class);

    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private final Options options;
    private final Path dataDir;
    private final boolean tempDataDir;
    private final int port;
    private final int controllerPort;
    private final String clusterId;
    private ChildProcess process;
    private Duration lastStartupTime = Duration.ZERO;

    private KafkaBroker(Options options) {
        this.options = Objects.requireNonNull(options, "options");
        this.port = Ports.resolve(options.port(), "Kafka");
        if (options.port() != 0 && options.port() == options.controllerPort()) {
            throw new IllegalArgumentException("the Kafka port and the controller port must differ: " + port);
        }
        int controller = Ports.resolve(options.controllerPort(), "Kafka controller");
        while (controller == port) { // only possible when both were picked free
            controller = Ports.resolve(options.controllerPort(), "Kafka controller");
        }
        this.controllerPort = controller;
        this.tempDataDir = options.dataDir() == null;
        this.dataDir = tempDataDir ? Dirs.newTempDataDir("kafka-") : Dirs.createDirectories(options.dataDir().toAbsolutePath());
        this.clusterId = existingClusterId(logDirs()).orElseGet(() -> Uuid.randomUuid().toString());
    }

    /**
     * The cluster id a data directory was formatted with, so a new process (a restarted dev mode)
     * can start on it: a broker refuses storage formatted for another cluster id.
     */
    static Optional<String> existingClusterId(Path logDirs) {
        Path meta = logDirs.resolve("meta.properties");
        if (!Files.isReadable(meta)) {
            return Optional.empty();
        }
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(meta)) {
            properties.load(in);
        } catch (IOException e) {
            throw new DevstackException("cannot read " + meta + "; delete " + logDirs + " to start afresh", e);
        }
        return Optional.ofNullable(properties.getProperty("cluster.id")).filter(id -> !id.isBlank());
    }

    private Path logDirs() {
        return dataDir.resolve("kraft-logs");
    }

    /** Starts a broker and waits until it answers {@code describeCluster}. */
    public static KafkaBroker start(Options options) {
        KafkaBroker broker = new KafkaBroker(options);
        try {
            broker.start();
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
        return broker;
    }

    /** {@code 127.0.0.1:<port>}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return Ports.HOST + ":" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return options.logDir().resolve("kafka-" + port + ".log").toAbsolutePath();
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** How long the last {@link #start()} took until the broker was ready. */
    public synchronized Duration lastStartupTime() {
        return lastStartupTime;
    }

    /** Starts the broker (again) on the same port and data directory and waits until it is ready; no-op if running. */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        Ports.requireFree(port, "Kafka");
        Ports.requireFree(controllerPort, "Kafka controller");
        long started = System.nanoTime();
        Path config = writeConfig();
        process = ChildProcess.start("Kafka broker " + bootstrapServers(), command(config), Map.of(), logFile());
        process.awaitReady(options.startupTimeout(), this::answersDescribeCluster);
        lastStartupTime = Duration.ofNanos(System.nanoTime() - started);
        log.info("Kafka broker {} ready in {} ms", bootstrapServers(), lastStartupTime.toMillis());
    }

    /** Shuts the broker down (orderly, then forcibly after 30 s); its data is kept for {@link #start()}. */
    public synchronized void stop() {
        if (process != null) {
            process.stop(STOP_GRACE);
            process = null;
        }
    }

    /** Stops the broker and deletes its data directory if it was a temporary one. */
    @Override
    public synchronized void close() {
        stop();
        if (tempDataDir) {
            Dirs.deleteRecursively(dataDir);
        }
    }

    private List<String> command(Path config) {
        List<String> command = new ArrayList<>();
        command.add(Dirs.javaExecutable());
        command.add("-Xms64m");
        command.add("-Xmx" + options.maxHeap());
        command.add("-XX:+UseSerialGC");
        command.add("-Djava.awt.headless=true");
        command.add("-Dlogback.configurationFile=" + dataDir.resolve("logback.xml"));
        command.add("-Dlog4j2.configurationFile=" + dataDir.resolve("log4j2.properties"));
        command.add("-Dkafka.logs.dir=" + options.logDir().toAbsolutePath());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ParentWatchdog.class.getName());
        command.add(KafkaServerMain.class.getName());
        command.add(config.toString());
        command.add(clusterId);
        return command;
    }

    private Path writeConfig() {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("process.roles", "broker,controller");
        config.put("node.id", "1");
        config.put("controller.quorum.voters", "1@" + Ports.HOST + ":" + controllerPort);
        config.put("listeners", "PLAINTEXT://" + Ports.HOST + ":" + port + ",CONTROLLER://" + Ports.HOST + ":" + controllerPort);
        config.put("advertised.listeners", "PLAINTEXT://" + Ports.HOST + ":" + port);
        config.put("controller.listener.names", "CONTROLLER");
        config.put("inter.broker.listener.name", "PLAINTEXT");
        config.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        config.put("log.dirs", logDirs().toString());
        config.put("num.partitions", Integer.toString(options.numPartitions()));
        config.put("default.replication.factor", "1");
        config.put("min.insync.replicas", "1");
        config.put("offsets.topic.replication.factor", "1");
        config.put("offsets.topic.num.partitions", "5");
        config.put("transaction.state.log.replication.factor", "1");
        config.put("transaction.state.log.min.isr", "1");
        config.put("transaction.state.log.num.partitions", "5");
        config.put("share.coordinator.state.topic.replication.factor", "1");
        config.put("share.coordinator.state.topic.min.isr", "1");
        config.put("group.initial.rebalance.delay.ms", "0");
        config.put("auto.create.topics.enable", "true");
        config.put("delete.topic.enable", "true");
        // small footprint: a 2-core laptop runs this next to the tests
        config.put("num.network.threads", "2");
        config.put("num.io.threads", "4");
        config.put("background.threads", "4");
        config.put("log.cleaner.dedupe.buffer.size", Integer.toString(16 * 1024 * 1024));
        config.putAll(options.config());

        Properties properties = new Properties();
        properties.putAll(config);
        try {
            Path file = dataDir.resolve("server.properties");
            try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                properties.store(out, "written by metering-devstack KafkaBroker");
            }
            Files.writeString(dataDir.resolve("logback.xml"), LOGBACK_XML, StandardCharsets.UTF_8);
            Files.writeString(dataDir.resolve("log4j2.properties"), LOG4J2_PROPERTIES, StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the broker configuration to " + dataDir, e);
        }
    }

    private boolean answersDescribeCluster() {
        if (!Ports.accepts(port)) {
            return false; // not listening yet: spares the admin client's connection warnings
        }
        Map<String, Object> config = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        try (Admin admin = Admin.create(config)) {
            return !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return false;
        }
    }

    // The child logs through SLF4J to whichever backend the classpath has: both files are given, the unused one is ignored.
    // Output goes to stdout, which the parent appends to the log file together with anything the JVM itself prints.
    private static final String LOGBACK_XML = """
            <configuration>
              <statusListener class="ch.qos.logback.core.status.NopStatusListener"/>
              <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
              </appender>
              <logger name="state.change.logger" level="WARN"/>
              <logger name="kafka.request.logger" level="WARN"/>
              <logger name="org.apache.kafka.clients" level="WARN"/>
              <logger name="org.apache.kafka.common.config" level="WARN"/>
              <logger name="org.apache.kafka.common.utils.AppInfoParser" level="WARN"/>
              <root level="INFO"><appender-ref ref="OUT"/></root>
            </configuration>
            """;

    private static final String LOG4J2_PROPERTIES = """
            status = warn
            appender.out.type = Console
            appender.out.name = OUT
            appender.out.layout.type = PatternLayout
            appender.out.layout.pattern = %d{HH:mm:ss.SSS} %-5level [%t] %c{1} - %msg%n
            rootLogger.level = INFO
            rootLogger.appenderRef.out.ref = OUT
            logger.statechange.name = state.change.logger
            logger.statechange.level = WARN
            logger.request.name = kafka.request.logger
            logger.request.level = WARN
            """;

    /**
     * Broker settings. {@link #defaults()} suits tests: free ports, a temporary data directory under
     * {@code target/devstack-data} (deleted by {@code close()}), logs in {@code target/devstack-logs}.
     *
     * @param port            the client port, 0 for a free one
     * @param controllerPort  the KRaft controller port, 0 for a free one
     * @param dataDir         where the broker keeps its data; {@code null} for a temporary directory
     * @param logDir          where {@code kafka-<port>.log} is written
     * @param numPartitions   partitions of auto-created topics
     * @param maxHeap         the child JVM's {@code -Xmx} value, e.g. {@code 512m}
     * @param startupTimeout  how long {@code start} waits for the broker to be ready
     * @param config          further broker properties, overriding the defaults
     */
    public record Options(int port, int controllerPort, Path dataDir, Path logDir, int numPartitions, String maxHeap,
                          Duration startupTimeout, Map<String, String> config) {

        public Options {
            Objects.requireNonNull(logDir, "logDir");
            Objects.requireNonNull(maxHeap, "maxHeap");
            Objects.requireNonNull(startupTimeout, "startupTimeout");
            config = Map.copyOf(config);
        }

        public static Options defaults() {
            return new Options(0, 0, null, Dirs.defaultLogDir(), 1, "512m", Duration.ofSeconds(90), Map.of());
        }

        public Options withPort(int port) {
            return new Options(port, controllerPort, dataDir, logDir, numPartitions, maxHeap, startupTimeout, config);
        }

        public Options withControllerPort(int controllerPort) {
            return new Options(port, controllerPort, dataDir, logDir, numPartitions, maxHeap, startupTimeout, config);
        }

        public Options withDataDir(Path dataDir) {
            return new Options(port, controllerPort, dataDir, logDir, numPartitions, maxHeap, startupTimeout, config);
        }

        public Options withLogDir(Path logDir) {
            return new Options(port, controllerPort, dataDir, logDir, numPartitions, maxHeap, startupTimeout, config);
        }

        public Options withNumPartitions(int numPartitions) {
            return new Options(port, controllerPort, dataDir, logDir, numPartitions, maxHeap, startupTimeout, config);
        }

        public Options withMaxHeap(String maxHeap) {
            return new Options(port, controllerPort, dataDir, logDir, numPartitions, maxHeap, startupTimeout, config);
        }

        public Options withStartupTimeout(Duration startupTimeout) {
            return new Options(port, controllerPort, dataDir, logDir, numPartitions, maxHeap, startupTimeout, config);
        }

        /** Adds or overrides one broker property, e.g. {@code log.retention.hours}. */
        public Options withConfig(String key, String value) {
            Map<String, String> merged = new LinkedHashMap<>(config);
            merged.put(key, value);
            return new Options(port, controllerPort, dataDir, logDir, numPartitions, maxHeap, startupTimeout, merged);
        }
    }
}
