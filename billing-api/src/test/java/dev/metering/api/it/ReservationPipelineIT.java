package dev.metering.api.it;

import static dev.metering.api.it.ApiServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.api.config.KafkaSettings;
import dev.metering.api.it.ApiServer.Response;
import dev.metering.devstack.TestInfra;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.sink.SinkApp;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsApp;
import dev.metering.streams.StreamsAppConfig;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Reservations through the whole pipeline in one JVM (real broker, registry, streams topology,
 * sink and PostgreSQL, two API instances): 50 concurrent reservations of $0.10 against $1.00 of
 * room, the 10 allowed ones settled with the eventIds of events sent through POST /api/v1/events;
 * once the pipeline counted them the spend is exactly the cap and nothing is held.
 */
class ReservationPipelineIT {

    private static final String PREFIX = "it-res-" + UUID.randomUUID().toString().substring(0, 8) + ".";
    private static final String CATALOG = """
            defaultPlan: budget
            plans:
              - id: budget
                limits:
                  - { id: spend, feature: AI_COMPLETION, meter: cost_usd, window: day, max: "1.00" }
            """;

    @Test
    void shouldAllowTenOfFiftyTenCentReservationsAndEndAtExactlyTheCapOnceThePipelineCountedThem() throws Exception {
        KafkaSettings kafka = KafkaSettings.of(TestInfra.kafka().bootstrapServers(), TestInfra.registry().confluentUrl(),
                new Topics(PREFIX));
        String url = ApiServer.freshDatabase("billing_reservation_pipeline");
        Map<String, String> env = PipelineEnv.of(PREFIX, "reservation-pipeline", url, true);
        // the API's clock follows the wall clock here (set before each call): the pipeline's progress does
        Instant now = Instant.now();
        try (ApiServer a = ApiServer.startWithKafka(url, kafka, true);
             ApiServer b = ApiServer.startWithKafka(url, kafka, true);
             StreamsApp streams = StreamsApp.start(StreamsAppConfig.from(ConfigSource.of(env)));
             SinkApp.RunningSink sink = SinkApp.start(SinkConfig.from(ConfigSource.of(env)))) {
            a.clock.set(now);
            b.clock.set(now);
            assertThat(streams.awaitRunning(Duration.ofSeconds(60))).isTrue();
            a.applyCatalog(CATALOG);
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                    .until(() -> "budget".equals(b.check("acme", "AI_COMPLETION", "quantity=0").text("/plan")));

            List<Response> answers = concurrently(a, b, 50);
            List<Response> held = answers.stream().filter(r -> r.json().get("allowed").asBoolean()).toList();
            assertThat(held).hasSize(10).allSatisfy(r -> assertThat(r.status()).isEqualTo(201));
            assertThat(answers.stream().filter(r -> !r.json().get("allowed").asBoolean()))
                    .hasSize(40).allSatisfy(r -> assertThat(r.text("/code")).isEqualTo("USAGE_LIMIT_EXCEEDED"));

            // each caller: the model call, its usage event (202 once Kafka acknowledged it), then the settle
            Instant at = now.truncatedTo(ChronoUnit.SECONDS);
            for (int i = 0; i < held.size(); i++) {
                String eventId = "call-" + i;
                ApiServer s = i % 2 == 0 ? a : b;
                assertThat(s.post("/api/v1/events", ADMIN, "{\"eventId\":\"" + eventId + "\",\"orgId\":\"acme\","
                        + "\"feature\":\"AI_COMPLETION\",\"provider\":\"openai\",\"model\":\"gpt-5\","
                        + "\"costNanos\":100000000,\"occurredAt\":\"" + at + "\"}").status()).isEqualTo(202);
                s.clock.set(Instant.now());
                Response settled = s.post("/api/v1/usage/acme/reservations/" + held.get(i).text("/reservationId")
                        + "/settle", ADMIN, "{\"eventId\":\"" + eventId + "\"}");
                assertThat(settled.status()).isEqualTo(200);
                assertThat(settled.text("/status")).isEqualTo("settled");
            }
            // settled, not yet counted or counted: never below the cap in between
            b.clock.set(Instant.now());
            Response meanwhile = b.check("acme", "AI_COMPLETION", "quantity=0");
            assertThat(money(meanwhile, "used").add(money(meanwhile, "held"))).isGreaterThanOrEqualTo(
                    new BigDecimal("1.00"));

            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                a.clock.set(Instant.now());
                b.clock.set(Instant.now());
                Response check = b.check("acme", "AI_COMPLETION", "costUsd=0.10");
                assertThat(money(check, "used")).isEqualByComparingTo("1.00");
                assertThat(money(check, "held")).isEqualByComparingTo("0");
                assertThat(check.json().get("allowed").asBoolean()).isFalse();
            });
            assertThat(a.get("/api/v1/usage/acme/events/call-9", ADMIN).text("/status")).isEqualTo("counted");
            Response more = a.post("/api/v1/usage/acme/reservations", ADMIN,
                    "{\"requestId\":\"after\",\"feature\":\"AI_COMPLETION\",\"costUsd\":\"0.01\"}");
            assertThat(more.json().get("allowed").asBoolean()).as("the cap is spent").isFalse();
        }
    }

    /** A money field of the first limit (a decimal string). */
    private static BigDecimal money(Response r, String field) {
        return new BigDecimal(r.text("/limits/0/" + field));
    }

    /** Fires n reservations of $0.10 at once, alternating between the instances. */
    private static List<Response> concurrently(ApiServer a, ApiServer b, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Response>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ApiServer s = i % 2 == 0 ? a : b;
                String body = "{\"requestId\":\"req-" + i + "\",\"feature\":\"AI_COMPLETION\",\"costUsd\":\"0.10\"}";
                futures.add(pool.submit(() -> {
                    go.await();
                    return s.post("/api/v1/usage/acme/reservations", ADMIN, body);
                }));
            }
            go.countDown();
            List<Response> out = new ArrayList<>();
            for (Future<Response> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
