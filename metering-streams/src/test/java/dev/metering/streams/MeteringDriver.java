package dev.metering.streams;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceVersion;
import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import dev.metering.events.DeadLetterHeaders;
import dev.metering.events.Topics;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import dev.metering.events.serde.AvroSerializer;
import dev.metering.streams.metrics.PrometheusMeteringMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The whole topology on a {@link TopologyTestDriver} with a real in-memory schema registry:
 * events are written exactly as a producer would (Confluent wire format, keyed by orgId).
 */
public final class MeteringDriver implements AutoCloseable {

    public static final Topics TOPICS = Topics.defaults();

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final AvroSerializer<Object> valueSerializer = new AvroSerializer<>(registry, Map.of(), false);
    private final PrometheusMeteringMetrics metrics;
    private final TopologyTestDriver driver;
    private final TestInputTopic<byte[], byte[]> events;
    private final TestInputTopic<String, byte[]> prices;
    private final TestOutputTopic<UsageWindowKey, UsageWindowTotals> aggregates;
    private final TestOutputTopic<byte[], byte[]> deadLetters;
    private final TestOutputTopic<String, PricedUsageEvent> priced;
    private final Duration emitInterval;
    private final Map<UsageWindowKey, UsageWindowTotals> latest = new LinkedHashMap<>();
    private final List<KeyValue<UsageWindowKey, UsageWindowTotals>> updates = new ArrayList<>();
    private final List<TestRecord<byte[], byte[]>> dlq = new ArrayList<>();

    public MeteringDriver(Path stateDir) {
        this(stateDir, TopologyConfig.defaults(TOPICS, Clock.fixed(TestEvents.NOW, ZoneOffset.UTC)));
    }

    public MeteringDriver(Path stateDir, TopologyConfig config) {
        Clock clock = config.clock();
        emitInterval = config.emitInterval();
        metrics = new PrometheusMeteringMetrics(new PrometheusRegistry(), clock);
        MeteringSerdes serdes = MeteringSerdes.create(registry, Map.of());
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "metering-streams-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(MeteringTopology.build(config, serdes, metrics), props, clock.instant());
        events = driver.createInputTopic(TOPICS.events(), new ByteArraySerializer(), new ByteArraySerializer());
        prices = driver.createInputTopic(TOPICS.prices(), new StringSerializer(), new ByteArraySerializer());
        aggregates = driver.createOutputTopic(TOPICS.aggregates(), serdes.windowKey().deserializer(),
                serdes.windowTotals().deserializer());
        deadLetters = driver.createOutputTopic(TOPICS.deadLetters(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        priced = driver.createOutputTopic(TOPICS.priced(), new StringDeserializer(), serdes.pricedEvent().deserializer());
    }

    /** Sends events keyed by their orgId, each with its occurredAt as record timestamp. */
    public MeteringDriver send(UsageEvent... sent) {
        for (UsageEvent e : sent) {
            sendRaw(e.getOrgId().getBytes(UTF_8), encode(e), e.getOccurredAt());
        }
        return this;
    }

    public MeteringDriver send(TestEvents... sent) {
        for (TestEvents e : sent) {
            send(e.build());
        }
        return this;
    }

    /** Sends one record, then lets one emission interval pass, so the rows it changed are emitted. */
    public MeteringDriver sendRaw(byte[] key, byte[] value, Instant timestamp) {
        events.pipeInput(key, value, timestamp);
        driver.advanceWallClockTime(emitInterval);
        return this;
    }

    /** Sends one record without letting time pass: the rows it changed are held until the next emission. */
    public MeteringDriver sendWithoutEmission(UsageEvent e) {
        events.pipeInput(e.getOrgId().getBytes(UTF_8), encode(e), e.getOccurredAt());
        return this;
    }

    /** The event log's records so far (when the event log is on). */
    public List<KeyValue<String, PricedUsageEvent>> pricedEvents() {
        return priced.readKeyValuesToList();
    }

    public byte[] encode(UsageEvent event) {
        return valueSerializer.serialize(TOPICS.events(), event);
    }

    /** Publishes a model's price: the newest version plus the older ones in {@code history}. */
    public MeteringDriver price(String provider, String model, Instant effectiveFrom, long inputPer1M, long cachedPer1M,
            long outputPer1M, Long unitNanos, ModelPriceVersion... history) {
        ModelPrice price = ModelPrice.newBuilder()
                .setProvider(provider).setModel(model).setEffectiveFrom(effectiveFrom)
                .setInputPer1MNanos(inputPer1M).setCachedInputPer1MNanos(cachedPer1M).setOutputPer1MNanos(outputPer1M)
                .setUnitNanos(unitNanos).setHistory(Arrays.asList(history))
                .build();
        prices.pipeInput(provider + "/" + model, valueSerializer.serialize(TOPICS.prices(), price));
        return this;
    }

    /** Publishes a model's price record as given. */
    public MeteringDriver price(ModelPrice price) {
        prices.pipeInput(price.getProvider() + "/" + price.getModel(), valueSerializer.serialize(TOPICS.prices(), price));
        return this;
    }

    public static ModelPriceVersion version(Instant effectiveFrom, long inputPer1M, long cachedPer1M, long outputPer1M) {
        return ModelPriceVersion.newBuilder().setEffectiveFrom(effectiveFrom).setInputPer1MNanos(inputPer1M)
                .setCachedInputPer1MNanos(cachedPer1M).setOutputPer1MNanos(outputPer1M).setUnitNanos(null).build();
    }

    public MeteringDriver advanceWallClock(Duration d) {
        driver.advanceWallClockTime(d);
        return this;
    }

    private void drain() {
        for (KeyValue<UsageWindowKey, UsageWindowTotals> kv : aggregates.readKeyValuesToList()) {
            updates.add(kv);
            UsageWindowTotals known = latest.get(kv.key);
            if (known == null || kv.value.getVersion() > known.getVersion()) {
                latest.put(kv.key, kv.value);
            }
        }
        dlq.addAll(deadLetters.readRecordsToList());
    }

    /** Every update emitted so far, in order. */
    public List<KeyValue<UsageWindowKey, UsageWindowTotals>> updates() {
        drain();
        return List.copyOf(updates);
    }

    /** The final totals per window key (highest version wins), as the sink would hold them. */
    public Map<UsageWindowKey, UsageWindowTotals> totals() {
        drain();
        return new HashMap<>(latest);
    }

    /** The totals of one row, or null. */
    public UsageWindowTotals row(WindowGrain grain, WindowSize size, Instant windowStart, String org, String user,
            String feature, String provider, String model) {
        return totals().get(UsageWindowKey.newBuilder().setGrain(grain).setSize(size).setWindowStart(windowStart)
                .setOrgId(org).setUserId(user).setFeature(feature).setProvider(provider).setModel(model).setConversationId("")
                .build());
    }

    /** The CONVERSATION-grain totals of (org, conversation, feature), or null. */
    public UsageWindowTotals conversationRow(String org, String conversation, String feature) {
        return totals().get(UsageWindowKey.newBuilder().setGrain(WindowGrain.CONVERSATION).setSize(WindowSize.LIFETIME)
                .setWindowStart(Instant.EPOCH).setOrgId(org).setUserId("").setFeature(feature).setProvider("").setModel("")
                .setConversationId(conversation).build());
    }

    /** The ORG-grain totals of (org, feature) in a window. */
    public UsageWindowTotals orgRow(WindowSize size, Instant windowStart, String org, String feature) {
        return row(WindowGrain.ORG, size, windowStart, org, "", feature, "", "");
    }

    public List<TestRecord<byte[], byte[]>> deadLetters() {
        drain();
        return List.copyOf(dlq);
    }

    public static String header(TestRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), UTF_8);
    }

    public static String reason(TestRecord<byte[], byte[]> record) {
        return header(record, DeadLetterHeaders.REASON);
    }

    public PrometheusMeteringMetrics metrics() {
        return metrics;
    }

    public InMemorySchemaRegistryClient registry() {
        return registry;
    }

    @Override
    public void close() {
        driver.close();
    }
}
