package dev.metering.app.it;

import dev.metering.avro.UsageEvent;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Events at a steady rate from a thread of its own, keyed by org, about 5 % of them sent a second
 * time (the very same event: a producer retry), with the ground truth per org kept independently:
 * only first sends count. Event time is the wall clock at sending, as for a live chat product.
 */
final class SteadyTraffic implements AutoCloseable {

    /** Per org: events, quantity, input tokens, output tokens. */
    record Totals(long events, long quantity, long inputTokens, long outputTokens) {
        Totals plus(UsageEvent e) {
            return new Totals(events + 1, quantity + e.getQuantity(), inputTokens + e.getInputTokens(),
                    outputTokens + e.getOutputTokens());
        }
    }

    private final KafkaProducer<String, byte[]> producer;
    private final Serializer<UsageEvent> serializer;
    private final String topic;
    private final List<String> orgs;
    private final int perSecond;
    private final Random random;
    private final Map<String, Totals> truth = new TreeMap<>();
    private final AtomicReference<Exception> sendFailure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;
    private long sent;
    private long duplicates;

    SteadyTraffic(String bootstrap, String registryUrl, String topic, List<String> orgs, int perSecond, long seed) {
        this.producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "acks", "all", "enable.idempotence", true,
                "linger.ms", 5), new StringSerializer(), new ByteArraySerializer());
        this.serializer = AvroSerdes.specific(UsageEvent.class,
                HttpSchemaRegistryClient.fromConfig(Map.of(HttpSchemaRegistryClient.URL_CONFIG, registryUrl)),
                Map.of("auto.register.schemas", true), false).serializer();
        this.topic = topic;
        this.orgs = List.copyOf(orgs);
        this.perSecond = perSecond;
        this.random = new Random(seed);
        this.thread = new Thread(this::run, "steady-traffic");
    }

    SteadyTraffic start() {
        thread.start();
        return this;
    }

    private void run() {
        long tick = TimeUnit.MILLISECONDS.toNanos(50);
        int perTick = Math.max(1, perSecond / 20);
        long next = System.nanoTime();
        UsageEvent previous = null;
        while (running && sendFailure.get() == null) {
            for (int i = 0; i < perTick; i++) {
                UsageEvent e = event();
                send(e);
                synchronized (this) {
                    truth.merge(e.getOrgId(), new Totals(0, 0, 0, 0).plus(e), (a, b) -> a.plus(e));
                    sent++;
                }
                if (previous != null && random.nextInt(100) < 5) {
                    send(previous);
                    synchronized (this) {
                        duplicates++;
                    }
                }
                previous = e;
            }
            // pacing, not waiting for a state: one tick's events every 50 ms
            next += tick;
            LockSupport.parkNanos(Math.max(0, next - System.nanoTime()));
        }
    }

    private void send(UsageEvent e) {
        producer.send(new ProducerRecord<>(topic, e.getOrgId(), serializer.serialize(topic, e)), (m, failure) -> {
            if (failure != null) {
                sendFailure.compareAndSet(null, failure);
            }
        });
    }

    private UsageEvent event() {
        return UsageEvent.newBuilder().setEventId(UUID.randomUUID().toString())
                .setOrgId(orgs.get(random.nextInt(orgs.size()))).setOccurredAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setUserId("user-" + random.nextInt(4)).setSource("it").setConversationId("conv-" + random.nextInt(20))
                .setAttributes(new HashMap<>()).setFeature("CHAT_MESSAGE").setProvider("acme").setModel("in-house-llm")
                .setQuantity(1).setInputTokens(100 + random.nextInt(3000)).setOutputTokens(20 + random.nextInt(900))
                .setCachedInputTokens(0).build();
    }

    /** Stops sending and waits until every event sent is acknowledged; fails if any send failed. */
    @Override
    public void close() throws Exception {
        if (!running) {
            return;
        }
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(30));
        producer.flush();
        producer.close();
        if (sendFailure.get() != null) {
            throw new IllegalStateException("a send failed", sendFailure.get());
        }
    }

    synchronized Map<String, Totals> truth() {
        return new TreeMap<>(truth);
    }

    synchronized long sent() {
        return sent;
    }

    synchronized long duplicates() {
        return duplicates;
    }
}
