package dev.metering.events.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GroupMembershipTest {

    private static final String INSTANCE = "METERING_X_INSTANCE_ID";
    private static final String SESSION = "METERING_X_SESSION_TIMEOUT";

    private static Map<String, Object> properties(Map<String, String> env) {
        ConfigSource source = ConfigSource.of(env);
        GroupMembership membership = GroupMembership.from(source, INSTANCE, "host-1", SESSION);
        assertThat(source.problems()).isEmpty();
        Map<String, Object> properties = new HashMap<>(KafkaClientProperties.kafka(source));
        membership.applyTo(properties);
        properties.remove(KafkaClientProperties.METRICS_PUSH); // KafkaClientPropertiesTest's
        return properties;
    }

    @Test
    void shouldUseStaticMembershipAndATenSecondSessionByDefault() {
        assertThat(properties(Map.of())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "group.instance.id", "host-1", "session.timeout.ms", 10_000, "heartbeat.interval.ms", 1000));
    }

    @Test
    void shouldReadTheInstanceIdAndSessionTimeoutAndHeartbeatTenTimesPerSessionUpToThreeSeconds() {
        assertThat(properties(Map.of(INSTANCE, "streams-2", SESSION, "6s"))).containsExactlyInAnyOrderEntriesOf(Map.of(
                "group.instance.id", "streams-2", "session.timeout.ms", 6000, "heartbeat.interval.ms", 600));
        assertThat(properties(Map.of(SESSION, "2m"))).containsEntry("heartbeat.interval.ms", 3000);
    }

    @Test
    void shouldLetKafkaPassThroughPropertiesWin() {
        assertThat(properties(Map.of("METERING_KAFKA_GROUP_INSTANCE_ID", "mine", "METERING_KAFKA_SESSION_TIMEOUT_MS", "45000",
                "METERING_KAFKA_HEARTBEAT_INTERVAL_MS", "15000")))
                .containsExactlyInAnyOrderEntriesOf(Map.of("group.instance.id", "mine", "session.timeout.ms", "45000",
                        "heartbeat.interval.ms", "15000"));
    }

    @Test
    void shouldLeaveTheSessionTimeoutToTheBrokerUnderTheNewGroupProtocols() {
        assertThat(properties(Map.of("METERING_KAFKA_GROUP_PROTOCOL", "consumer"))).containsExactlyInAnyOrderEntriesOf(Map.of(
                "group.protocol", "consumer", "group.instance.id", "host-1"));
    }

    @Test
    void shouldReportConflictsAndIllegalValuesEachWithItsVariable() {
        ConfigSource source = ConfigSource.of(Map.of(INSTANCE, "has space", SESSION, "500ms"));
        GroupMembership.from(source, INSTANCE, "host-1", SESSION);
        assertThat(source.problems()).hasSize(2).anySatisfy(p -> assertThat(p).startsWith(INSTANCE).contains("has space"))
                .anySatisfy(p -> assertThat(p).startsWith(SESSION).contains("between 1s and 30m"));

        ConfigSource both = ConfigSource.of(Map.of(INSTANCE, "a", "METERING_KAFKA_GROUP_INSTANCE_ID", "b",
                SESSION, "10s", "METERING_KAFKA_SESSION_TIMEOUT_MS", "10000"));
        GroupMembership.from(both, INSTANCE, "host-1", SESSION);
        assertThat(both.problems()).hasSize(2).anySatisfy(p -> assertThat(p).startsWith(INSTANCE).contains("not both"))
                .anySatisfy(p -> assertThat(p).startsWith(SESSION).contains("not both"));

        ConfigSource protocol = ConfigSource.of(Map.of(SESSION, "10s", "METERING_KAFKA_GROUP_PROTOCOL", "streams"));
        GroupMembership.from(protocol, INSTANCE, "host-1", SESSION);
        assertThat(protocol.problems()).singleElement().satisfies(p -> assertThat(p).startsWith(SESSION)
                .contains("group.protocol=streams"));
    }

    @Test
    void shouldTurnTheHostNameIntoALegalInstanceId() {
        assertThat(GroupMembership.hostName(ConfigSource.of(Map.of("HOSTNAME", "web 1.example.com"))))
                .isEqualTo("web-1.example.com");
        assertThat(GroupMembership.dynamic()).isEqualTo(new GroupMembership(Optional.empty(), Optional.empty()));
        assertThat(GroupMembership.DEFAULT_SESSION_TIMEOUT).isEqualTo(Duration.ofSeconds(10));
    }
}
