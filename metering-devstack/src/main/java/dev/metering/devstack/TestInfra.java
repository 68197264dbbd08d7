package dev.metering.devstack;

/**
 * One shared broker, registry and PostgreSQL per JVM for integration tests: each is started on
 * first use (free ports, temporary data under {@code target/devstack-data}, logs under
 * {@code target/devstack-logs}) and stopped when the JVM exits. Tests keep them apart by using
 * their own topic names, subjects and databases ({@link PostgresServer#createDatabase}).
 */
public final class TestInfra {

    private TestInfra() {
    }

    public static KafkaBroker kafka() {
        return KafkaHolder.BROKER;
    }

    public static SchemaRegistryServer registry() {
        return RegistryHolder.SERVER;
    }

    private static final class RegistryHolder {
        static final SchemaRegistryServer SERVER = closeAtExit(SchemaRegistryServer.start(SchemaRegistryServer.Options.defaults()));
    }

    public static PostgresServer postgres() {
        return PostgresHolder.SERVER;
    }

    private static final class PostgresHolder {
        static final PostgresServer SERVER = closeAtExit(PostgresServer.start(PostgresServer.Options.defaults()));
    }

    private static final class KafkaHolder {
        static final KafkaBroker BROKER = closeAtExit(KafkaBroker.start(KafkaBroker.Options.defaults()));
    }

    private static <T extends AutoCloseable> T closeAtExit(T server) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("devstack: closing " + server + " failed: " + e);
            }
        }, "devstack-close-" + server.getClass().getSimpleName()));
        return server;
    }
}
