package dev.metering.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PostgresServerIT {

    private final PostgresServer postgres = TestInfra.postgres();

    @Test
    void shouldAcceptJdbcConnectionsToConfiguredDatabase() throws SQLException {
        assertThat(postgres.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/metering");
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_database(), current_user, current_setting('server_version_num')::int / 10000")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("metering");
            assertThat(rs.getString(2)).isEqualTo("metering");
            assertThat(rs.getInt(3)).isEqualTo(17);
        }
    }

    @Test
    void shouldRefuseWrongPassword() {
        assertThatThrownBy(() -> DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), "wrong"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("password authentication failed for user \"metering\"");
    }

    @Test
    void shouldCreateFreshDatabaseEachTime() throws SQLException {
        String url = postgres.createDatabase("devstack_fresh");
        assertThat(url).isEqualTo(postgres.jdbcUrl("devstack_fresh"));
        execute(url, "CREATE TABLE t (id int)");

        postgres.createDatabase("devstack_fresh");

        assertThat(count(url, "SELECT count(*) FROM pg_tables WHERE tablename = 't'")).isZero();
    }

    @Test
    void shouldKeepDataAcrossStopAndStart() throws SQLException {
        try (PostgresServer own = PostgresServer.start(PostgresServer.Options.defaults())) {
            String url = own.createDatabase("devstack_restart");
            execute(url, "CREATE TABLE usage (org text PRIMARY KEY, events bigint)");
            execute(url, "INSERT INTO usage VALUES ('acme', 42)");
            int port = own.port();

            own.stop();
            assertThat(own.isRunning()).isFalse();
            assertThatThrownBy(() -> DriverManager.getConnection(url, own.user(), own.password()))
                    .isInstanceOf(SQLException.class);

            own.start();
            assertThat(own.port()).isEqualTo(port);
            assertThat(count(url, "SELECT events FROM usage WHERE org = 'acme'")).isEqualTo(42);
        }
    }

    @Test
    void shouldFailClearlyWhenExistingDataDirWasCreatedWithOtherPassword() {
        Path dataDir = Dirs.newTempDataDir("postgres-fixed-").resolve("pgdata");
        try {
            PostgresServer.Options options = PostgresServer.Options.defaults().withDataDir(dataDir);
            PostgresServer.start(options).close();

            assertThatThrownBy(() -> PostgresServer.start(options.withUser("metering", "changed")))
                    .isInstanceOf(DevstackException.class)
                    .hasMessageContaining("refuses user 'metering'")
                    .hasMessageContaining("was created with other credentials");
        } finally {
            deleteDataDir(dataDir);
            Dirs.deleteRecursively(dataDir.getParent());
        }
    }

    /** Deletes where a data directory's files really are: as root they may live elsewhere, linked from it. */
    private static void deleteDataDir(Path dataDir) {
        try {
            if (Files.isSymbolicLink(dataDir)) {
                Dirs.deleteRecursively(Files.readSymbolicLink(dataDir).getParent());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void execute(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, postgres.user(), postgres.password()); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private long count(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, postgres.user(), postgres.password());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getLong(1);
        }
    }

    @Test
    void shouldKeepDataAskedForInsideAPrivateDirectoryAcrossInstances(@TempDir Path tmp) throws Exception {
        // as root, PostgreSQL runs as another user, which cannot pass through a 0700 directory
        Path closed = Files.createDirectories(tmp.resolve("private"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        PostgresServer.Options options = PostgresServer.Options.defaults().withDataDir(closed.resolve("postgres"));
        try {
            try (PostgresServer first = PostgresServer.start(options);
                 Connection c = DriverManager.getConnection(first.jdbcUrl(), first.user(), first.password());
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");
            }
            try (PostgresServer second = PostgresServer.start(options);
                 Connection c = DriverManager.getConnection(second.jdbcUrl(), second.user(), second.password());
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT v FROM kept")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
            // the data shows where it was asked for (through a link when it had to live elsewhere)
            assertThat(closed.resolve("postgres").resolve("PG_VERSION")).exists();
        } finally {
            deleteDataDir(closed.resolve("postgres"));
        }
    }
}
