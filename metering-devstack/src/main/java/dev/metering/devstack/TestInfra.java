package dev.metering.devstack;

import java.util.function.Supplier;

/**
 * One shared broker, registry and PostgreSQL per JVM for integration tests: each is started on
 * first use (free ports, temporary data under {@code target/devstack-data}, logs under
 * {@code target/devstack-logs}) and stopped when the JVM exits. Tests keep out of each other's way
 * with their own topic names, subjects and databases ({@link PostgresServer#createDatabase}).
 *
 * <p>A server that failed to start is not retried: every later call fails with the same cause.
 */
public final class TestInfra {

    private static final Shared<KafkaBroker> KAFKA =
            new Shared<>("Kafka broker", () -> KafkaBroker.start(KafkaBroker.Options.defaults()));
    private static final Shared<SchemaRegistryServer> REGISTRY =
            new Shared<>("schema registry", () -> SchemaRegistryServer.start(SchemaRegistryServer.Options.defaults()));
    private static final Shared<PostgresServer> POSTGRES =
            new Shared<>("PostgreSQL", () -> PostgresServer.start(PostgresServer.Options.defaults()));

    private TestInfra() {
    }

    /** The shared broker. Tests that stop it must start it again; better, start an own {@link KafkaBroker} for outages. */
    public static KafkaBroker kafka() {
        return KAFKA.get();
    }

    /** The shared registry (in-memory storage). */
    public static SchemaRegistryServer registry() {
        return REGISTRY.get();
    }

    /** The shared PostgreSQL; database, user and password {@code metering}. */
    public static PostgresServer postgres() {
        return POSTGRES.get();
    }

    private static final class Shared<T extends AutoCloseable> {

        private final String name;
        private final Supplier<T> starter;
        private T server;
        private RuntimeException failure;

        Shared(String name, Supplier<T> starter) {
            this.name = name;
            this.starter = starter;
        }

        synchronized T get() {
            if (server != null) {
                return server;
            }
            if (failure != null) {
                throw new DevstackException("the shared " + name + " failed to start earlier: " + failure.getMessage(), failure);
            }
            try {
                server = starter.get();
            } catch (RuntimeException e) {
                failure = e;
                throw e;
            }
            T started = server;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (Exception e) {
                    System.err.println("devstack: closing the shared " + name + " failed: " + e);
                }
            }, "devstack-close-" + name));
            return server;
        }
    }
}
