package dev.metering.events;

import static dev.metering.events.UsageEventFixtures.anEvent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.avro.UsageEvent;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/** The meter's behaviour that needs no broker; delivery is proven by {@code UsageMeterIT}. */
class UsageMeterTest {

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    @Test
    void shouldRefuseInvalidEventBeforeSendingWithEveryProblem() throws IOException {
        try (UsageMeter meter = UsageMeter.create(config(unusedPort()), registry)) {
            UsageEvent invalid = anEvent().org(" ").feature("chat message").tokens(-5, 0).build();

            assertThatThrownBy(() -> meter.record(invalid))
                    .isInstanceOfSatisfying(InvalidUsageEventException.class, e -> assertThat(e.violations())
                            .extracting(v -> v.field() + " " + v.code())
                            .containsExactly("orgId REQUIRED", "feature INVALID_FORMAT", "inputTokens NEGATIVE"));
            assertThat(meter.rejected()).isEqualTo(1);
            assertThat(meter.sent()).isZero();
            assertThat(meter.failed()).isZero();
            assertThat(meter.inFlight()).isZero();
        }
    }

    @Test
    void shouldRefuseValuesTheDatabaseCannotStoreBeforeSending() throws IOException {
        try (UsageMeter meter = UsageMeter.create(config(unusedPort()), registry)) {
            UsageEvent invalid = anEvent().user("bob\u0000").model("openai", "m".repeat(3000)).build();

            assertThatThrownBy(() -> meter.record(invalid))
                    .isInstanceOfSatisfying(InvalidUsageEventException.class, e -> assertThat(e.violations())
                            .extracting(v -> v.field() + " " + v.code())
                            .containsExactly("userId INVALID_CHARACTER", "model TOO_LONG"));
            assertThat(meter.sent()).isZero();
        }
    }

    @Test
    void shouldRegisterEventSchemaAtStartUp() throws IOException {
        try (UsageMeter meter = UsageMeter.create(config(unusedPort()), registry)) {
            assertThat(registry.getLatestVersion("metering.usage.events-value").schema()).isEqualTo(UsageEvent.getClassSchema());
        }
    }

    @Test
    void shouldFailWithinBoundWhenNoBrokerIsReachable() throws IOException {
        try (UsageMeter meter = UsageMeter.create(config(unusedPort()), registry)) {
            long start = System.nanoTime();
            CompletableFuture<RecordMetadata> result = meter.record(anEvent().build()).toCompletableFuture();
            long returnedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(TimeoutException.class);
            assertThat(returnedAfterMs).isLessThan(2_000);
            assertThat(meter.failed()).isEqualTo(1);
            assertThat(meter.inFlight()).isZero();
        }
    }

    private static UsageMeterConfig config(int port) {
        return UsageMeterConfig.builder("127.0.0.1:" + port, null)
                .maxBlock(Duration.ofMillis(500)).requestTimeout(Duration.ofMillis(500))
                .deliveryTimeout(Duration.ofSeconds(1)).closeTimeout(Duration.ZERO)
                .clock(UsageEventFixtures.CLOCK).build();
    }

    private static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
