package dev.metering.streams;

import dev.metering.events.Topics;
import dev.metering.streams.deadletter.DeadLetterStage;
import dev.metering.streams.dedupe.DedupeStage;
import dev.metering.streams.eventlog.PricedEvents;
import dev.metering.streams.metrics.MeteringMetrics;
import dev.metering.streams.pricing.PriceBook;
import dev.metering.streams.pricing.PriceStage;
import dev.metering.streams.validate.Rekey;
import dev.metering.streams.validate.ValidateStage;
import dev.metering.streams.window.AggregateSerdes;
import dev.metering.streams.window.AggregateStage;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;

/**
 * The metering topology (docs/architecture.md): validate, dedupe, price, aggregate.
 *
 * <pre>
 * usage.events (bytes) ─▶ validate ─┬─ refused ───────────────────────────────────────────▶ dead-letter ─▶ usage.dlq
 *                                   ├─ mis-keyed ─▶ rekey-by-org (repartition) ─▶ decode ─┐     ▲
 *                                   └─ keyed by org ─────────────────────────────────────┴─▶ dedupe ─▶ price ─▶ aggregate
 *                                                                       prices (global) ──────────┘       │ late ─┘
 *                                                                                                          ├─▶ usage.aggregates
 *                                                                                           (event log on) └─▶ usage.priced
 * </pre>
 *
 * <p>The input is partitioned by orgId and every state key (dedupe, windows) starts with the
 * orgId, so an org's events all meet in one task and nothing is repartitioned, except records a
 * foreign producer keyed or partitioned differently (see {@link Rekey}). Every processor, store
 * and the one repartition topic are named; {@code MeteringTopologyDescriptionTest} pins
 * {@code describe()}.
 */
public final class MeteringTopology {

    private MeteringTopology() {
    }

    /** Builds the topology without metrics. */
    public static Topology build(TopologyConfig config, MeteringSerdes serdes) {
        return build(config, serdes, MeteringMetrics.none());
    }

    /** Builds the topology; {@code metrics} receives the stage counters. */
    public static Topology build(TopologyConfig config, MeteringSerdes serdes, MeteringMetrics metrics) {
        Topics topics = config.topics();
        StreamsBuilder builder = new StreamsBuilder();

        builder.addGlobalStore(PriceBook.storeBuilder(), topics.prices(),
                Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("prices"), PriceBook.updater());

        KStream<byte[], byte[]> raw = builder.stream(topics.events(),
                Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("events-source"));

        // 1. validate: every record yields one MeteredEvent, accepted or refused
        KStream<String, MeteredEvent> validated = raw.process(
                () -> new ValidateStage(serdes.usageEvent(), config.clock(), metrics), Named.as(ValidateStage.STAGE));
        int partitions = config.eventsPartitions();
        Map<String, KStream<String, MeteredEvent>> checked = validated.split(Named.as("validated-"))
                .branch((org, e) -> e.isRefused(), Branched.as("refused"))
                .branch((org, e) -> !Rekey.isPlacedByOrg(e, partitions), Branched.as("mis-keyed"))
                .defaultBranch(Branched.as("keyed-by-org"));

        // mis-keyed records: once through the named repartition topic, keyed by orgId
        KStream<String, MeteredEvent> rekeyed = checked.get("validated-mis-keyed")
                .process(Rekey.ToRepartition::new, Named.as("rekey-to-org"))
                .repartition(Repartitioned.with(Serdes.String(), Serdes.ByteArray()).withName("rekey-by-org"))
                .process(() -> new Rekey.FromRepartition(serdes.usageEvent()), Named.as("rekey-decode"));
        Map<String, KStream<String, MeteredEvent>> decoded = rekeyed.split(Named.as("rekeyed-"))
                .branch((org, e) -> e.isRefused(), Branched.as("refused"))
                .defaultBranch(Branched.as("decoded"));

        // 2. dedupe, 3. price, 4. aggregate: per task, no repartition
        KStream<Object, Object> aggregated = checked.get("validated-keyed-by-org")
                .merge(decoded.get("rekeyed-decoded"), Named.as("by-org"))
                .processValues(DedupeStage.supplier(config.grace(), config.dedupeMargin(), metrics), Named.as("dedupe"))
                .processValues(() -> new PriceStage(serdes.modelPrice(), topics.prices(), config.fallbackFemtosPerToken(), metrics),
                        Named.as("price"))
                .process(AggregateStage.supplier(config.aggregation(), metrics), Named.as(AggregateStage.STAGE));
        var branches = aggregated.split(Named.as("aggregated-"))
                .branch((key, value) -> value instanceof MeteredEvent e && e.isRefused(), Branched.as("late"));
        if (config.eventLog()) {
            branches = branches.branch((key, value) -> value instanceof MeteredEvent, Branched.as("counted"));
        }
        Map<String, KStream<Object, Object>> outcomes = branches.defaultBranch(Branched.as("updates"));

        outcomes.get("aggregated-updates").to(topics.aggregates(),
                Produced.with(erase(AggregateSerdes.key(serdes.windowKey())), erase(AggregateSerdes.totals(serdes.windowTotals())))
                        .withName("aggregates-sink"));
        if (config.eventLog()) {
            // 5. the event log: every counted event once, priced
            outcomes.get("aggregated-counted")
                    .map((key, value) -> KeyValue.pair((String) key, PricedEvents.of((MeteredEvent) value)), Named.as("priced-event"))
                    .to(topics.priced(), Produced.with(Serdes.String(), serdes.pricedEvent()).withName("priced-sink"));
        }

        // dead letters from every stage: original key and value bytes plus the reason headers
        KStream<Object, MeteredEvent> refused = refusedOf(checked.get("validated-refused"))
                .merge(refusedOf(decoded.get("rekeyed-refused")), Named.as("refused-rekeyed"))
                .merge(refusedOf(outcomes.get("aggregated-late")), Named.as("refused-late"));
        refused.process(() -> new DeadLetterStage(metrics), Named.as("dead-letter"))
                .to(topics.deadLetters(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("dead-letters-sink"));

        return builder.build();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static KStream<Object, MeteredEvent> refusedOf(KStream stream) {
        return (KStream<Object, MeteredEvent>) stream;
    }

    @SuppressWarnings("unchecked")
    private static Serde<Object> erase(Serde<?> serde) {
        return (Serde<Object>) serde;
    }
}
