package dev.metering.events;

import static dev.metering.events.UsageEventFixtures.anEvent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.metering.avro.UsageEvent;
import dev.metering.devstack.KafkaBroker;
import dev.metering.devstack.TestInfra;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.serde.AvroDeserializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/** {@link UsageMeter} against a real KRaft broker and a real (Apicurio) registry. */
class UsageMeterIT {

    private final Topics topics = new Topics("it-" + UUID.randomUUID() + ".");

    @Test
    void shouldDeliverTenThousandEventsOnceEachKeyedByOrg() throws Exception {
        String bootstrap = TestInfra.kafka().bootstrapServers();
        createTopic(bootstrap, topics.events(), 3);
        Map<String, UsageEvent> sent = new HashMap<>();
        List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>();

        try (UsageMeter meter = UsageMeter.create(config(bootstrap).build())) {
            for (int i = 0; i < 10_000; i++) {
                UsageEvent event = anEvent().eventId("evt-" + i).org("org-" + (i % 37)).user("u" + (i % 101))
                        .model("openai", "gpt-5").tokens(i, 2L * i).build();
                sent.put(event.getEventId(), event);
                acks.add(meter.record(event).toCompletableFuture());
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

            assertThat(meter.sent()).isEqualTo(10_000);
            assertThat(meter.failed()).isZero();
            assertThat(meter.inFlight()).isZero();
        }

        List<ConsumerRecord<String, UsageEvent>> records = readAll(bootstrap, topics.events(), 10_000);
        assertThat(records).hasSize(10_000);
        Map<String, UsageEvent> received = new HashMap<>();
        for (ConsumerRecord<String, UsageEvent> record : records) {
            assertThat(record.key()).isEqualTo(record.value().getOrgId());
            assertThat(received.put(record.value().getEventId(), record.value())).as("duplicate").isNull();
        }
        assertThat(received).isEqualTo(sent);
    }

    @Test
    void shouldRefuseInvalidEventsBeforeSendingWithEveryProblem() throws Exception {
        String bootstrap = TestInfra.kafka().bootstrapServers();
        createTopic(bootstrap, topics.events(), 1);
        try (UsageMeter meter = UsageMeter.create(config(bootstrap).build())) {
            UsageEvent invalid = anEvent().eventId("bad").org("").feature("chat").tokens(-1, 2_000_000_000L)
                    .at(UsageEventFixtures.T0.plus(Duration.ofHours(1))).build();

            assertThatThrownBy(() -> meter.record(invalid))
                    .isInstanceOf(InvalidUsageEventException.class)
                    .hasMessage("invalid usage event: "
                            + "orgId REQUIRED: orgId must not be empty; "
                            + "occurredAt IN_FUTURE: occurredAt 2023-11-14T23:13:20Z is more than 5 minutes after now (2023-11-14T22:13:20Z); "
                            + "feature INVALID_FORMAT: feature 'chat' must match [A-Z][A-Z0-9_]{0,63}; "
                            + "inputTokens NEGATIVE: inputTokens -1 must not be negative; "
                            + "outputTokens TOO_LARGE: outputTokens 2000000000 exceeds 1000000000 per event");
            meter.record(anEvent().eventId("good").build()).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertThat(meter.rejected()).isEqualTo(1);
        }

        assertThat(readAll(bootstrap, topics.events(), 1)).extracting(r -> r.value().getEventId()).containsExactly("good");
    }

    @Test
    void shouldFailWithinDeliveryTimeoutWhenBrokerStops() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(KafkaBroker.Options.defaults())) {
            createTopic(broker.bootstrapServers(), topics.events(), 1);
            UsageMeterConfig config = config(broker.bootstrapServers())
                    .maxBlock(Duration.ofSeconds(1)).requestTimeout(Duration.ofSeconds(1))
                    .deliveryTimeout(Duration.ofSeconds(3)).closeTimeout(Duration.ZERO).build();
            try (UsageMeter meter = UsageMeter.create(config)) {
                meter.record(anEvent().build()).toCompletableFuture().get(30, TimeUnit.SECONDS);
                broker.stop();

                long start = System.nanoTime();
                CompletableFuture<RecordMetadata> result = meter.record(anEvent().eventId("during-outage").build())
                        .toCompletableFuture();
                long returnedAfterMs = elapsedMs(start);
                await().atMost(Duration.ofSeconds(10)).until(result::isDone);
                long failedAfterMs = elapsedMs(start);

                assertThatThrownBy(result::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TimeoutException.class);
                // Kafka's max.block.ms plus validation and encoding, with slack for a loaded CI machine
                assertThat(returnedAfterMs).isLessThan(config.maxBlock().toMillis() + 500);
                assertThat(failedAfterMs).isLessThan(config.maxBlock().plus(config.deliveryTimeout()).toMillis() + 1_000);
                assertThat(meter.sent()).isEqualTo(1);
                assertThat(meter.failed()).isEqualTo(1);
                assertThat(meter.inFlight()).isZero();
            }
        }
    }

    private UsageMeterConfig.Builder config(String bootstrap) {
        return UsageMeterConfig.builder(bootstrap, TestInfra.registry().confluentUrl())
                .topics(topics).clock(UsageEventFixtures.CLOCK);
    }

    private static long elapsedMs(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    private static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    /** Reads the topic from the start until {@code expected} records arrived and no more follow. */
    private static List<ConsumerRecord<String, UsageEvent>> readAll(String bootstrap, String topic, int expected) {
        Map<String, Object> props = Map.of(
                "bootstrap.servers", bootstrap,
                "group.id", "it-" + UUID.randomUUID(),
                "auto.offset.reset", "earliest",
                "enable.auto.commit", "false");
        HttpSchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(
                Map.of("schema.registry.url", TestInfra.registry().confluentUrl()));
        List<ConsumerRecord<String, UsageEvent>> records = new ArrayList<>();
        try (KafkaConsumer<String, UsageEvent> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new AvroDeserializer<>(registry, UsageEvent.class))) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return records.size() >= expected;
            });
            // anything beyond the expected count would be a duplicate: give it a chance to show
            consumer.poll(Duration.ofSeconds(1)).forEach(records::add);
        }
        return records;
    }
}
