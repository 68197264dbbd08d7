package dev.metering.app;

/**
 * {@code dev} and {@code bench} start a broker, a registry and PostgreSQL themselves, which only
 * {@code metering.jar} carries; {@code metering-services.jar} (the production image's) leaves them out.
 */
final class FullJar {

    private FullJar() {
    }

    static void require(String command) {
        try {
            Class.forName("dev.metering.devstack.KafkaBroker", false, FullJar.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new UserException(command + " needs the full metering.jar (metering-app/target/metering.jar), which "
                    + "carries the local Kafka broker, registry support and PostgreSQL; this jar has the services only", 2,
                    null);
        }
    }
}
