package dev.metering.api.price;

import dev.metering.api.ApiException;
import dev.metering.api.audit.Actor;
import dev.metering.api.kafka.KafkaClients;
import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceContextTier;
import dev.metering.avro.ModelPriceServiceTier;
import dev.metering.avro.ModelPriceVersion;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The price book: stored in {@code metering.model_prices}, then published per model to the
 * compacted prices topic as one {@link ModelPrice} (key {@code provider/model}): the newest
 * version (greatest {@code effectiveFrom}) as the record, every earlier stored version in
 * {@code history}, so the streams PriceBook prices any event by the version in force at its
 * {@code occurredAt}, even after compaction. Order: 1. database commit, 2. publish and wait for
 * every acknowledgement; a failure in 2 is a 503 and repeating the PUT is safe (upsert, and the
 * topic keeps the last record per model).
 */
public final class PriceService {

    private static final Logger log = LoggerFactory.getLogger(PriceService.class);

    /** What a PUT did. */
    public record Applied(int versions, int models) {
    }

    private final PriceRepository repository;
    private final KafkaClients kafka;
    private final Runnable onApplied;

    public PriceService(PriceRepository repository, KafkaClients kafka) {
        this(repository, kafka, () -> { });
    }

    /** {@code onApplied} runs after each successful {@link #apply} (e.g. to refresh an in-memory copy). */
    public PriceService(PriceRepository repository, KafkaClients kafka, Runnable onApplied) {
        this.repository = repository;
        this.kafka = kafka;
        this.onApplied = onApplied;
    }

    public List<PriceVersion> all() {
        return repository.all();
    }

    public Applied apply(List<PriceVersion> versions, Actor actor) {
        if (kafka == null) {
            throw new ApiException(503, "UNAVAILABLE", null, "prices cannot be published: Kafka is not configured on "
                    + "this instance (METERING_KAFKA_BOOTSTRAP and METERING_SCHEMA_REGISTRY_URL are unset)");
        }
        KafkaClients.PriceProducer producer = kafka.prices();
        List<ModelPrice> prices = toModelPrices(repository.upsert(versions, actor));
        String topic = kafka.topics().prices();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        long deadline = System.nanoTime() + kafka.deliveryTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1);
        try {
            for (ModelPrice p : prices) {
                acks.add(producer.producer().send(new ProducerRecord<>(topic, p.getProvider() + "/" + p.getModel(),
                        producer.serializer().serialize(topic, p))));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.warn("publishing {} prices to {} failed: {}", prices.size(), topic, e.toString());
            throw new ApiException(503, "UNAVAILABLE", null, "the prices are stored but Kafka did not acknowledge them "
                    + "in time; repeat the PUT (it is idempotent)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "UNAVAILABLE", null, "interrupted while publishing prices");
        }
        onApplied.run();
        return new Applied(versions.size(), prices.size());
    }

    /** One record per model: newest version, earlier ones in {@code history} (oldest first). */
    public static List<ModelPrice> toModelPrices(List<PriceVersion> versions) {
        Map<String, List<PriceVersion>> byKey = new LinkedHashMap<>();
        versions.forEach(v -> byKey.computeIfAbsent(v.key(), k -> new ArrayList<>()).add(v));
        List<ModelPrice> out = new ArrayList<>();
        for (List<PriceVersion> list : byKey.values()) {
            list.sort(Comparator.comparing(PriceVersion::effectiveFrom));
            PriceVersion current = list.get(list.size() - 1);
            List<ModelPriceVersion> history = new ArrayList<>();
            for (PriceVersion v : list.subList(0, list.size() - 1)) {
                history.add(ModelPriceVersion.newBuilder().setEffectiveFrom(v.effectiveFrom())
                        .setInputPer1MNanos(nanos(v.inputPer1mUsd())).setCachedInputPer1MNanos(nanos(v.cachedInputPer1mUsd()))
                        .setOutputPer1MNanos(nanos(v.outputPer1mUsd()))
                        .setUnitNanos(v.unitUsd() == null ? null : nanos(v.unitUsd()))
                        .setCacheWritePer1MNanos(nullableNanos(v.cacheWritePer1mUsd()))
                        .setContextTiers(contextTiers(v)).setServiceTiers(serviceTiers(v)).build());
            }
            out.add(ModelPrice.newBuilder().setProvider(current.provider()).setModel(current.model())
                    .setEffectiveFrom(current.effectiveFrom())
                    .setInputPer1MNanos(nanos(current.inputPer1mUsd()))
                    .setCachedInputPer1MNanos(nanos(current.cachedInputPer1mUsd()))
                    .setOutputPer1MNanos(nanos(current.outputPer1mUsd()))
                    .setUnitNanos(current.unitUsd() == null ? null : nanos(current.unitUsd()))
                    .setHistory(history)
                    .setCacheWritePer1MNanos(nullableNanos(current.cacheWritePer1mUsd()))
                    .setContextTiers(contextTiers(current)).setServiceTiers(serviceTiers(current)).build());
        }
        return out;
    }

    /** Null when the version has none, so a record without tiers is exactly what it was before tiers existed. */
    private static List<ModelPriceContextTier> contextTiers(PriceVersion v) {
        if (v.contextTiers().isEmpty()) {
            return null;
        }
        return v.contextTiers().stream().map(t -> new ModelPriceContextTier(t.aboveInputTokens(), nanos(t.inputPer1mUsd()),
                nanos(t.cachedInputPer1mUsd()), nullableNanos(t.cacheWritePer1mUsd()), nanos(t.outputPer1mUsd()))).toList();
    }

    private static List<ModelPriceServiceTier> serviceTiers(PriceVersion v) {
        if (v.serviceTiers().isEmpty()) {
            return null;
        }
        // the schema's decimal has scale 6; multipliers are validated to at most 6 decimals
        return new TreeMap<>(v.serviceTiers()).entrySet().stream()
                .map(e -> new ModelPriceServiceTier(e.getKey(), e.getValue().setScale(6))).toList();
    }

    private static Long nullableNanos(BigDecimal usd) {
        return usd == null ? null : nanos(usd);
    }

    /** Exact USD to nano-USD (validated to at most 9 decimals). */
    static long nanos(BigDecimal usd) {
        return usd.movePointRight(9).longValueExact();
    }
}
