package dev.metering.app.demo;

import dev.metering.api.audit.Actor;
import dev.metering.api.account.BillingService;
import dev.metering.api.subscription.Subscription;
import dev.metering.api.subscription.SubscriptionStatus;
import dev.metering.avro.UsageEvent;
import dev.metering.events.Topics;
import dev.metering.events.UsageMeter;
import dev.metering.events.UsageMeterConfig;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.KafkaClientProperties;
import dev.metering.events.registry.HttpSchemaRegistryClient;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Dev mode's demo load: {@value #ORGS} orgs on the example catalog's plans (subscriptions and a
 * credit grant each created on first start), many users and models, through {@link UsageMeter}
 * like a chat service that asks the check endpoint before each message or call ({@link CheckGate})
 * and sends only what is allowed; about 1 % duplicates (an allowed event sent again), and every
 * 10 s one undecodable record and one invalid event sent around the meter's validation, so the
 * dead letters fill too. The busy trial org {@code org-00001} sends 5 chat messages a second on
 * top and is refused within a minute (the trial plan's 100,000 tokens per billing period).
 */
public final class DemoTraffic implements AutoCloseable {

    static final int ORGS = 36;
    static final String HOT_ORG = TrafficGenerator.org(1);
    static final List<String> PLANS = List.of("TRIAL", "PAYG", "STARTER", "PRO", "ENTERPRISE");

    private final UsageMeter meter;
    private final KafkaProducer<String, byte[]> raw;
    private final Serializer<UsageEvent> unvalidated;
    private final Topics topics;
    private final TrafficGenerator generator = new TrafficGenerator(42, Clock.systemUTC());
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "demo-traffic");
        t.setDaemon(true);
        return t;
    });
    private final int rate;
    private final CheckGate gate;
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong invalid = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private double credit;
    private long ticks;
    private UsageEvent last;

    private DemoTraffic(Map<String, String> env, int rate, CheckGate gate) {
        this.rate = rate;
        this.gate = gate;
        ConfigSource source = ConfigSource.of(env);
        this.meter = UsageMeter.create(UsageMeterConfig.from(source, Clock.systemUTC()));
        this.topics = Topics.from(source);
        Map<String, Object> kafka = new HashMap<>(KafkaClientProperties.kafka(ConfigSource.of(env)));
        this.raw = new KafkaProducer<>(kafka, new StringSerializer(), new ByteArraySerializer());
        SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(
                KafkaClientProperties.schemaRegistry(ConfigSource.of(env)));
        this.unvalidated = AvroSerdes.specific(UsageEvent.class, registry, Map.of("auto.register.schemas", true), false)
                .serializer();
    }

    /** Creates the demo subscriptions (when missing) and starts sending what {@code apiUrl}'s check allows. */
    public static DemoTraffic start(Map<String, String> env, BillingService billing, int rate, String apiUrl,
                                    String token) {
        Instant now = Instant.now();
        Instant periodStart = now.atOffset(ZoneOffset.UTC).truncatedTo(ChronoUnit.DAYS).withDayOfMonth(1).toInstant();
        Instant periodEnd = periodStart.atOffset(ZoneOffset.UTC).plusMonths(1).toInstant();
        for (int i = 1; i <= ORGS; i++) {
            String org = TrafficGenerator.org(i);
            if (billing.subscription(org).isEmpty()) {
                String plan = i == 1 ? "TRIAL" : PLANS.get(i % PLANS.size());
                billing.putSubscription(new Subscription(org, plan, SubscriptionStatus.ACTIVE, periodStart, periodEnd,
                        1, Map.of(), null, now), Actor.tool("demo", now));
                // balances and grants for the dashboard; the hot org's second grant expires within
                // the 7 days that raise a credits.expiring alert
                billing.grant(org, new BigDecimal(25), "demo starter credit", null, Actor.tool("demo", now));
                if (i == 1) {
                    billing.grant(org, new BigDecimal(5), "demo trial top-up", now.plus(5, ChronoUnit.DAYS),
                            Actor.tool("demo", now));
                }
            }
        }
        DemoTraffic traffic = new DemoTraffic(env, rate, CheckGate.http(apiUrl, token, Clock.systemUTC()));
        traffic.scheduler.scheduleAtFixedRate(traffic::tick, 0, 100, TimeUnit.MILLISECONDS);
        return traffic;
    }

    public String describe() {
        return ORGS + " orgs on plans " + PLANS + ", ~" + rate + " events/s plus 5 chat messages/s from " + HOT_ORG
                + " (TRIAL: 200 messages a day, 100000 tokens a month), each checked before it is sent, ~1% duplicates,"
                + " an undecodable and an invalid record every 10 s";
    }

    private void tick() {
        try {
            ticks++;
            credit += rate / 10.0;
            while (credit >= 1) {
                credit -= 1;
                if (last != null && generator.chance(1)) {
                    send(last);
                    duplicates.incrementAndGet();
                    continue;
                }
                int index = 1 + generator.nextInt(ORGS);
                UsageEvent e = generator.next(TrafficGenerator.org(index), 1 + index % 6);
                if (sendIfAllowed(e)) {
                    last = e;
                }
            }
            if (ticks % 2 == 0) {
                sendIfAllowed(generator.chatMessage(HOT_ORG));
            }
            if (ticks % 100 == 0) {
                raw.send(new ProducerRecord<>(topics.events(), "org-00002",
                        "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8)));
                malformed.incrementAndGet();
                UsageEvent bad = generator.next(TrafficGenerator.org(3), 1);
                bad.setFeature("chat message");
                raw.send(new ProducerRecord<>(topics.events(), bad.getOrgId(), unvalidated.serialize(topics.events(), bad)));
                invalid.incrementAndGet();
            }
        } catch (RuntimeException e) {
            // the summary shows the meter's failures; keep generating
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean sendIfAllowed(UsageEvent e) throws InterruptedException {
        if (!gate.allows(e)) {
            return false;
        }
        send(e);
        return true;
    }

    private void send(UsageEvent e) {
        meter.record(e);
    }

    /** The check answers so far, as the live summary prints them. */
    public String checks() {
        return gate.summary();
    }

    /** Why the latest check without an answer had none; null while every check was answered. */
    public String lastCheckProblem() {
        return gate.lastProblem();
    }

    public long sent() {
        return meter.sent();
    }

    public long failed() {
        return meter.failed();
    }

    public long duplicates() {
        return duplicates.get();
    }

    public long invalidSent() {
        return invalid.get() + malformed.get();
    }

    public static String hotOrg() {
        return HOT_ORG;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        meter.close();
        raw.close(java.time.Duration.ofSeconds(5));
    }
}
