package dev.metering.app.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One {@code java -jar metering-app/target/metering.jar <command>} child JVM, started as production
 * runs it (configuration only from {@code METERING_*} variables), its output appended to a log file
 * whose Kafka client lines (group membership, transactions, restoration) carry timestamps.
 * {@link #kill()} is SIGKILL; every child still running is killed when the test JVM exits.
 */
final class ServiceProcess {

    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "it-children"));
    }

    private final String name;
    private final Process process;
    private final Path log;

    private ServiceProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** The shaded jar built by {@code package}, which runs before failsafe. */
    static Path jar() {
        return jar("metering.jar");
    }

    /** The production image's jar, without the dev infrastructure (also built by {@code package}). */
    static Path servicesJar() {
        return jar("metering-services.jar");
    }

    private static Path jar(String name) {
        Path jar = Path.of("target", name).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run `mvn -pl metering-app -am verify` (package builds it)");
        }
        return jar;
    }

    /** Starts {@code metering.jar command} with {@code env}; {@code name} names its log file in {@code logDir}. */
    static ServiceProcess start(String name, String command, Map<String, String> env, Path logDir) {
        return start(name, jar(), command, env, logDir);
    }

    /** As {@link #start(String, String, Map, Path)} with another jar, e.g. {@link #servicesJar()}. */
    static ServiceProcess start(String name, Path jar, String command, Map<String, String> env, Path logDir) {
        return start(name, Path.of(System.getProperty("java.home")), jar, command, env, logDir);
    }

    /** As {@link #start(String, Path, String, Map, Path)} on another Java runtime ({@code javaHome/bin/java}). */
    static ServiceProcess start(String name, Path javaHome, Path jar, String command, Map<String, String> env, Path logDir) {
        return start(name, javaHome, jar, List.of(command), env, logDir);
    }

    private static ServiceProcess start(String name, Path javaHome, Path jar, List<String> args, Map<String, String> env,
            Path logDir) {
        try {
            Path log = logDir.resolve(name + ".log");
            Files.writeString(log, "---- " + java.time.Instant.now() + " starting " + name + System.lineSeparator(),
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            List<String> cmd = new ArrayList<>(List.of(javaHome.resolve("bin").resolve("java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Dlogback.configurationFile=" + logConfig(logDir), "-jar", jar.toString()));
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("METERING_"));
            pb.environment().putAll(env);
            Process process = pb.start();
            RUNNING.add(process);
            return new ServiceProcess(name, process, log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name, e);
        }
    }

    /** Runs a one-shot command (e.g. {@code migrate}) to completion; fails unless it exits 0. */
    static void run(String name, String command, Map<String, String> env, Path logDir) throws InterruptedException {
        awaitExit(start(name, command, env, logDir));
    }

    /** As {@link #run(String, String, Map, Path)}, {@code args} ({@code command} and its arguments) from {@code jar} on {@code javaHome}. */
    static void run(String name, Path javaHome, Path jar, List<String> args, Map<String, String> env, Path logDir)
            throws InterruptedException {
        awaitExit(start(name, javaHome, jar, args, env, logDir));
    }

    private static void awaitExit(ServiceProcess p) throws InterruptedException {
        String name = p.name;
        if (!p.process.waitFor(2, TimeUnit.MINUTES)) {
            p.kill();
            throw new IllegalStateException(name + " did not finish within 2 minutes; see " + p.log);
        }
        RUNNING.remove(p.process);
        if (p.process.exitValue() != 0) {
            throw new IllegalStateException(name + " exited with " + p.process.exitValue() + "; see " + p.log);
        }
    }

    /** SIGKILL, then waits until the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " survived SIGKILL for 30 s");
        }
        RUNNING.remove(process);
    }

    /** SIGTERM (the service closes cleanly), then waits up to a minute; returns the exit code (0 after a clean stop). */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            kill();
        }
        RUNNING.remove(process);
        return process.exitValue();
    }

    /** Whether the output so far contains {@code text}. */
    boolean logContains(String text) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Fails with the log's path when the process has exited (a service must keep running). */
    void requireAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
        }
    }

    /**
     * The value of an unlabelled Prometheus sample from {@code http://127.0.0.1:port/metrics}, or -1
     * while the endpoint does not answer yet.
     */
    double metric(int port, String sample) {
        requireAlive();
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
            for (String line : r.body().split("\n")) {
                if (line.startsWith(sample + " ")) {
                    return Double.parseDouble(line.substring(sample.length() + 1).trim());
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * A free port below the kernel's ephemeral range (32768 and up on Linux): a port from that range
     * can be taken as the source port of an outgoing connection before the service binds it.
     */
    static synchronized int freePort() {
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(12_000);
            if (!HANDED_OUT.contains(port)) {
                try (ServerSocket s = new ServerSocket(port)) {
                    HANDED_OUT.add(port);
                    return s.getLocalPort();
                } catch (IOException busy) {
                    // taken: try another
                }
            }
        }
        throw new UncheckedIOException(new IOException("no free port in 20000-31999"));
    }

    private static final java.util.Set<Integer> HANDED_OUT = new java.util.HashSet<>();

    /** Kills every child still running (the tests' {@code @AfterAll}). */
    static void killAll() {
        RUNNING.forEach(Process::destroyForcibly);
        RUNNING.clear();
    }

    /** A logback configuration with the Kafka clients' group, transaction and restoration lines at INFO. */
    private static Path logConfig(Path logDir) throws IOException {
        Path file = logDir.resolve("logback-child.xml");
        if (!Files.exists(file)) {
            Files.writeString(file, """
                    <configuration>
                      <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
                        <target>System.err</target>
                        <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n</pattern></encoder>
                      </appender>
                      <logger name="org.apache.kafka" level="WARN"/>
                      <logger name="org.apache.kafka.clients.consumer.internals" level="INFO"/>
                      <logger name="org.apache.kafka.clients.producer.internals.TransactionManager" level="INFO"/>
                      <logger name="org.apache.kafka.streams" level="INFO"/>
                      <logger name="org.apache.kafka.streams.processor.internals.StateDirectory" level="INFO"/>
                      <logger name="org.eclipse.jetty" level="WARN"/>
                      <logger name="io.javalin" level="WARN"/>
                      <logger name="org.flywaydb" level="WARN"/>
                      <logger name="com.zaxxer.hikari" level="WARN"/>
                      <logger name="org.jooq" level="WARN"/>
                      <root level="INFO"><appender-ref ref="CONSOLE"/></root>
                    </configuration>
                    """, StandardCharsets.UTF_8);
        }
        return file.toAbsolutePath();
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }
}
