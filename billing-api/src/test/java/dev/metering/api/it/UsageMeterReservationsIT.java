package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.metering.api.config.KafkaSettings;
import dev.metering.avro.UsageEvent;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Reservations;
import dev.metering.events.Topics;
import dev.metering.events.UsageEvents;
import dev.metering.events.UsageMeter;
import dev.metering.events.UsageMeterConfig;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Clock;
import java.util.UUID;
import org.jooq.Record;
import org.junit.jupiter.api.Test;

/**
 * {@link UsageMeter#reservations}: reserve, call, settle against the real API and PostgreSQL, the
 * event sent through the real broker and registry before the settle; a failed call releases its
 * hold; a refusal holds nothing.
 */
class UsageMeterReservationsIT {

    private static final String CATALOG = """
            defaultPlan: budget
            plans:
              - id: budget
                limits:
                  - { id: spend, feature: AI_COMPLETION, meter: cost_usd, window: day, max: "0.25" }
            """;

    @Test
    void shouldReserveSettleWithTheSentEventReleaseOnFailureAndHoldNothingWhenRefused() {
        Topics topics = new Topics("it-meter-res-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        KafkaSettings kafka = KafkaSettings.of(TestInfra.kafka().bootstrapServers(), TestInfra.registry().confluentUrl(),
                topics);
        try (ApiServer api = ApiServer.startWithKafka("billing_meter_reservations", kafka);
             UsageMeter meter = UsageMeter.create(UsageMeterConfig.builder(TestInfra.kafka().bootstrapServers(),
                     TestInfra.registry().confluentUrl()).topics(topics).build())) {
            api.applyCatalog(CATALOG);
            String key = api.createKey("acme", "check")[1];
            Reservations reservations = meter.reservations(URI.create("http://127.0.0.1:" + api.api.port()), key);
            Reservations.Request tenCents = Reservations.Request.of("acme", "AI_COMPLETION")
                    .costUsd(new BigDecimal("0.10"));

            String settledId;
            UsageEvent event = UsageEvents.builder(Clock.systemUTC()).org("acme").feature("AI_COMPLETION")
                    .model("openai", "gpt-5").costNanos(100_000_000L).build();
            try (Reservations.Hold hold = reservations.reserve(tenCents)) {
                assertThat(hold.allowed()).isTrue();
                settledId = hold.reservationId();
                hold.settle(event);
            }
            assertThat(meter.sent()).isEqualTo(1);
            Record settled = api.db.fetchOne("select event_id, settled_at, released_at from metering.reservations "
                    + "where id = ?", settledId);
            assertThat(settled.get(0, String.class)).isEqualTo(event.getEventId().toString());
            assertThat(settled.get(1)).isNotNull();
            assertThat(settled.get(2)).as("closing a settled hold releases nothing").isNull();

            String failedId = null;
            try (Reservations.Hold hold = reservations.reserve(tenCents.requestId("call-2"))) {
                failedId = hold.reservationId();
                throw new IllegalStateException("the model call failed");
            } catch (IllegalStateException expected) {
                assertThat(expected).hasMessage("the model call failed");
            }
            assertThat(api.db.fetchOne("select released_at from metering.reservations where id = ?", failedId).get(0))
                    .as("released by close()").isNotNull();

            // $0.10 settled (pending usage) + $0.20 would pass $0.25
            try (Reservations.Hold refused = reservations.reserve(Reservations.Request.of("acme", "AI_COMPLETION")
                    .costUsd(new BigDecimal("0.20")))) {
                assertThat(refused.allowed()).isFalse();
                assertThat(refused.code()).isEqualTo("USAGE_LIMIT_EXCEEDED");
                assertThat(refused.reservationId()).isNull();
                assertThatThrownBy(() -> refused.settle("x")).isInstanceOf(IllegalStateException.class);
            }
            assertThat(api.db.fetchCount(api.db.selectFrom("metering.reservations"))).isEqualTo(2);

            Reservations wrongKey = meter.reservations(URI.create("http://127.0.0.1:" + api.api.port()), "nope-key");
            assertThatThrownBy(() -> wrongKey.reserve(tenCents))
                    .isInstanceOfSatisfying(Reservations.ReservationException.class,
                            e -> assertThat(e.status()).isEqualTo(401));
        }
    }
}
