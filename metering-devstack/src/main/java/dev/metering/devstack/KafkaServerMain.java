package dev.metering.devstack;

/**
 * Main class of the broker's child JVM (started through {@link ParentWatchdog}): formats the KRaft
 * storage on first start, then runs {@code kafka.Kafka}. Not an API; {@link KafkaBroker} starts it.
 *
 * <p>Arguments: {@code <server.properties> <cluster-id>}. Formatting uses {@code --ignore-formatted},
 * so a restart keeps the existing cluster id and data.
 */
public final class KafkaServerMain {

    private KafkaServerMain() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: KafkaServerMain <server.properties> <cluster-id>");
            System.exit(2);
        }
        String config = args[0];
        String clusterId = args[1];
        int formatted = kafka.tools.StorageTool.execute(
                new String[] {"format", "--config", config, "--cluster-id", clusterId, "--ignore-formatted"}, System.out);
        if (formatted != 0) {
            System.err.println("devstack: formatting the KRaft storage failed with exit code " + formatted);
            System.exit(formatted);
        }
        kafka.Kafka.main(new String[] {config});
    }
}
