package dev.metering.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apicurio Registry (the {@code io.apicurio:apicurio-registry-app} distribution from Maven
 * Central) in a child JVM, serving the Confluent-compatible API at {@link #confluentUrl()}.
 *
 * <p>Storage: this distribution is built with the H2 SQL storage only (no PostgreSQL driver). By
 * default it is in memory; with {@link Options#dataDir()} set it uses an H2 file database
 * ({@code <dataDir>/registry.mv.db}), so schemas and their ids survive a restart. The registry's log
 * goes to {@code <logDir>/registry-<port>.log}. The child JVM exits when this JVM exits.
 */
public final class SchemaRegistryServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SchemaRegistryServer.class);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);
    private static final String MAIN_CLASS = "io.quarkus.runner.GeneratedMain";

    private final Options options;
    private final int port;
    private final Path runnerJar;
    private final Path workDir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private ChildProcess process;
    private Duration lastStartupTime = Duration.ZERO;

    private SchemaRegistryServer(Options options) {
        this.options = Objects.requireNonNull(options, "options");
        this.port = Ports.resolve(options.port(), "schema registry");
        this.runnerJar = ApicurioDistribution.runnerJar(options.version(), options.cacheDir());
        this.workDir = options.dataDir() == null
                ? options.logDir().toAbsolutePath()
                : options.dataDir().toAbsolutePath();
        Dirs.createDirectories(workDir);
    }

    /** Starts a registry and waits until {@code GET /apis/ccompat/v7/subjects} answers 200. */
    public static SchemaRegistryServer start(Options options) {
        SchemaRegistryServer server = new SchemaRegistryServer(options);
        try {
            server.start();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** {@code http://127.0.0.1:<port>/apis/ccompat/v7}: the Confluent Schema Registry compatible API. */
    public String confluentUrl() {
        return baseUrl() + "/apis/ccompat/v7";
    }

    /** {@code http://127.0.0.1:<port>}: Apicurio's own APIs live below it ({@code /apis/registry/v2}). */
    public String baseUrl() {
        return "http://" + Ports.HOST + ":" + port;
    }

    public int port() {
        return port;
    }

    public Path logFile() {
        return options.logDir().resolve("registry-" + port + ".log").toAbsolutePath();
    }

    /** True when schemas are kept in an H2 file under {@link Options#dataDir()}. */
    public boolean isPersistent() {
        return options.dataDir() != null;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** How long the last {@link #start()} took until the registry answered. */
    public synchronized Duration lastStartupTime() {
        return lastStartupTime;
    }

    /** Starts the registry (again) on the same port; no-op if running. In-memory storage starts empty. */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        Ports.requireFree(port, "schema registry");
        long started = System.nanoTime();
        process = ChildProcess.start("Apicurio Registry " + baseUrl(), command(), Map.of(), logFile(), workDir);
        process.awaitReady(options.startupTimeout(), this::answers);
        lastStartupTime = Duration.ofNanos(System.nanoTime() - started);
        log.info("schema registry {} ready in {} ms", confluentUrl(), lastStartupTime.toMillis());
    }

    public synchronized void stop() {
        if (process != null) {
            process.stop(STOP_GRACE);
            process = null;
        }
    }

    @Override
    public synchronized void close() {
        stop();
    }

    private List<String> command() {
        List<String> command = new ArrayList<>();
        command.add(Dirs.javaExecutable());
        command.add("-Xms64m");
        command.add("-Xmx" + options.maxHeap());
        command.add("-XX:+UseSerialGC");
        command.add("-Djava.awt.headless=true");
        command.add("-Dquarkus.http.host=" + Ports.HOST);
        command.add("-Dquarkus.http.port=" + port);
        // a handful of connections is plenty for tests and a laptop (the distribution pre-opens 20)
        command.add("-Dquarkus.datasource.jdbc.initial-size=2");
        command.add("-Dquarkus.datasource.jdbc.min-size=2");
        command.add("-Dquarkus.datasource.jdbc.max-size=20");
        if (options.dataDir() != null) {
            command.add("-Dquarkus.datasource.jdbc.url=jdbc:h2:file:" + options.dataDir().toAbsolutePath().resolve("registry"));
        }
        command.add("-cp");
        command.add(watchdogClasspath() + java.io.File.pathSeparator + runnerJar);
        command.add(ParentWatchdog.class.getName());
        command.add(MAIN_CLASS);
        return command;
    }

    /** A directory holding only {@link ParentWatchdog}'s class file, so the registry JVM gets nothing else of ours. */
    private Path watchdogClasspath() {
        Path root = options.cacheDir().resolve("devstack-watchdog");
        String resource = ParentWatchdog.class.getName().replace('.', '/') + ".class";
        Path target = root.resolve(resource);
        try (InputStream in = ParentWatchdog.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new DevstackException("cannot find " + resource + " on the classpath");
            }
            byte[] bytes = in.readAllBytes();
            if (!Files.isRegularFile(target) || !java.util.Arrays.equals(Files.readAllBytes(target), bytes)) {
                Files.createDirectories(target.getParent());
                Path tmp = Files.createTempFile(target.getParent(), "ParentWatchdog", ".tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + target, e);
        }
    }

    private boolean answers() {
        if (!Ports.accepts(port)) {
            return false;
        }
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(confluentUrl() + "/subjects")).timeout(Duration.ofSeconds(2)).build();
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Registry settings. {@link #defaults()} suits tests: a free port, in-memory storage, logs in
     * {@code target/devstack-logs}, the distribution unpacked under {@code ~/.cache/metering}.
     *
     * @param port            0 for a free port
     * @param dataDir         {@code null} for in-memory storage, else the directory of the H2 file database
     * @param logDir          where {@code registry-<port>.log} is written
     * @param version         the {@code apicurio-registry-app} version on Maven Central
     * @param cacheDir        where the distribution is unpacked
     * @param maxHeap         the child JVM's {@code -Xmx} value
     * @param startupTimeout  how long {@code start} waits for the registry
     */
    public record Options(int port, Path dataDir, Path logDir, String version, Path cacheDir, String maxHeap,
                          Duration startupTimeout) {

        public static final String DEFAULT_VERSION = "2.6.13.Final";

        public Options {
            Objects.requireNonNull(logDir, "logDir");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(cacheDir, "cacheDir");
            Objects.requireNonNull(maxHeap, "maxHeap");
            Objects.requireNonNull(startupTimeout, "startupTimeout");
        }

        public static Options defaults() {
            return new Options(0, null, Dirs.defaultLogDir(), DEFAULT_VERSION,
                    Path.of(System.getProperty("user.home"), ".cache", "metering"), "384m", Duration.ofSeconds(120));
        }

        public Options withPort(int port) {
            return new Options(port, dataDir, logDir, version, cacheDir, maxHeap, startupTimeout);
        }

        /** Keeps schemas in an H2 file database in {@code dataDir}, so they survive a restart. */
        public Options withDataDir(Path dataDir) {
            return new Options(port, dataDir, logDir, version, cacheDir, maxHeap, startupTimeout);
        }

        public Options withLogDir(Path logDir) {
            return new Options(port, dataDir, logDir, version, cacheDir, maxHeap, startupTimeout);
        }

        public Options withVersion(String version) {
            return new Options(port, dataDir, logDir, version, cacheDir, maxHeap, startupTimeout);
        }

        public Options withCacheDir(Path cacheDir) {
            return new Options(port, dataDir, logDir, version, cacheDir, maxHeap, startupTimeout);
        }

        public Options withMaxHeap(String maxHeap) {
            return new Options(port, dataDir, logDir, version, cacheDir, maxHeap, startupTimeout);
        }

        public Options withStartupTimeout(Duration startupTimeout) {
            return new Options(port, dataDir, logDir, version, cacheDir, maxHeap, startupTimeout);
        }
    }
}
