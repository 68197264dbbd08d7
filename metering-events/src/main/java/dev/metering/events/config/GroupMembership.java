package dev.metering.events.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a service's consumers belong to their group, for fast recovery: a stable
 * {@code group.instance.id} (static membership), so a restarted instance gets its partitions back
 * at once instead of waiting for its previous incarnation's session to expire, and a
 * {@code session.timeout.ms} short enough that the survivors take over from an instance that does
 * not come back.
 *
 * <p>A {@code METERING_KAFKA_GROUP_INSTANCE_ID} or {@code METERING_KAFKA_SESSION_TIMEOUT_MS}
 * pass-through still wins (setting it together with the service's own variable is a problem). With
 * {@code METERING_KAFKA_GROUP_PROTOCOL=consumer} or {@code streams} the broker owns the session
 * timeout, so none is set.
 *
 * @param instanceId     the {@code group.instance.id}; empty: dynamic membership
 * @param sessionTimeout the {@code session.timeout.ms}; empty: the client's or the pass-through's
 */
public record GroupMembership(Optional<String> instanceId, Optional<Duration> sessionTimeout) {

    /** Short enough for a quick takeover, above the broker's default minimum (6 s). */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(10);
    /** Kafka's rule for group instance ids (a Kafka Streams thread adds {@code -<n>} to it). */
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]{1,200}");
    private static final String PASS_THROUGH_INSTANCE = KafkaClientProperties.KAFKA_PREFIX + "GROUP_INSTANCE_ID";
    private static final String PASS_THROUGH_SESSION = KafkaClientProperties.KAFKA_PREFIX + "SESSION_TIMEOUT_MS";
    private static final String PASS_THROUGH_PROTOCOL = KafkaClientProperties.KAFKA_PREFIX + "GROUP_PROTOCOL";

    public GroupMembership {
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(sessionTimeout, "sessionTimeout");
    }

    /** Dynamic membership with the client's own session timeout (tests that build a config by hand). */
    public static GroupMembership dynamic() {
        return new GroupMembership(Optional.empty(), Optional.empty());
    }

    /**
     * Reads {@code instanceVariable} (default {@code defaultInstanceId}) and {@code sessionVariable}
     * (default {@link #DEFAULT_SESSION_TIMEOUT}, between 1 s and 30 min), recording problems on
     * {@code source}.
     */
    public static GroupMembership from(ConfigSource source, String instanceVariable, String defaultInstanceId,
                                       String sessionVariable) {
        Optional<String> instanceId;
        if (source.get(PASS_THROUGH_INSTANCE).isPresent()) {
            if (source.get(instanceVariable).isPresent()) {
                source.problem(instanceVariable, "set either it or " + PASS_THROUGH_INSTANCE + ", not both");
            }
            instanceId = Optional.empty();
        } else {
            String id = source.string(instanceVariable, defaultInstanceId);
            if (!LEGAL.matcher(id).matches()) {
                source.problem(instanceVariable, "'" + id + "' must be 1 to 200 of the characters a-z A-Z 0-9 . _ -");
            }
            instanceId = Optional.of(id);
        }
        Duration timeout = source.duration(sessionVariable, DEFAULT_SESSION_TIMEOUT);
        if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(Duration.ofMinutes(30)) > 0) {
            source.problem(sessionVariable, "must be between 1s and 30m (the broker allows 6s to 30m by default)");
        }
        String protocol = source.string(PASS_THROUGH_PROTOCOL, "classic").toLowerCase(Locale.ROOT);
        boolean brokerOwnsSession = !protocol.equals("classic");
        Optional<Duration> session = Optional.of(timeout);
        if (source.get(PASS_THROUGH_SESSION).isPresent() || brokerOwnsSession) {
            if (source.get(sessionVariable).isPresent()) {
                source.problem(sessionVariable, brokerOwnsSession
                        ? "does not apply with group.protocol=" + protocol + " (the broker's group session timeout does)"
                        : "set either it or " + PASS_THROUGH_SESSION + ", not both");
            }
            session = Optional.empty();
        }
        return new GroupMembership(instanceId, session);
    }

    /**
     * Adds {@code group.instance.id}, {@code session.timeout.ms} and a {@code heartbeat.interval.ms}
     * of a tenth of it (at most Kafka's default 3 s) to consumer (or Kafka Streams) properties: the
     * survivors learn of the rebalance by their next heartbeat once a dead member's session expired.
     */
    public void applyTo(Map<String, Object> properties) {
        instanceId.ifPresent(id -> properties.put("group.instance.id", id));
        sessionTimeout.ifPresent(timeout -> {
            properties.put("session.timeout.ms", (int) timeout.toMillis());
            properties.putIfAbsent("heartbeat.interval.ms", (int) Math.min(3000, timeout.toMillis() / 10));
        });
    }

    /** This machine's name as a legal instance id: {@code HOSTNAME} (set in containers), else the resolver's answer. */
    public static String hostName(ConfigSource source) {
        String name = source.get("HOSTNAME").orElseGet(() -> {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                return "localhost";
            }
        });
        String legal = name.replaceAll("[^a-zA-Z0-9._-]", "-");
        return legal.length() > 100 ? legal.substring(0, 100) : legal;
    }
}
