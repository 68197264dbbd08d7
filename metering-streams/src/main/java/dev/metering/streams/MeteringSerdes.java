package dev.metering.streams;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroDeserializer;
import dev.metering.events.serde.AvroSerdes;
import dev.metering.streams.validate.UsageEventDecoder;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;

/**
 * The Avro (Confluent wire format) serdes the topology uses, all bound to one schema registry.
 *
 * @param usageEvent   decodes {@code metering.usage.events} values
 * @param modelPrice   decodes {@code metering.prices} values
 * @param windowKey    {@code metering.usage.aggregates} keys (subject {@code <topic>-key})
 * @param windowTotals {@code metering.usage.aggregates} values (subject {@code <topic>-value})
 * @param pricedEvent  {@code metering.usage.priced} values (subject {@code <topic>-value})
 */
public record MeteringSerdes(Deserializer<UsageEvent> usageEvent, Deserializer<ModelPrice> modelPrice,
        Serde<UsageWindowKey> windowKey, Serde<UsageWindowTotals> windowTotals, Serde<PricedUsageEvent> pricedEvent) {

    public MeteringSerdes {
        Objects.requireNonNull(usageEvent, "usageEvent");
        Objects.requireNonNull(modelPrice, "modelPrice");
        Objects.requireNonNull(windowKey, "windowKey");
        Objects.requireNonNull(windowTotals, "windowTotals");
        Objects.requireNonNull(pricedEvent, "pricedEvent");
    }

    /**
     * The serdes on one shared registry client. {@code config} holds Confluent serde keys (e.g.
     * {@code auto.register.schemas}); the output subjects are registered on first use unless it
     * says {@code auto.register.schemas=false}.
     */
    public static MeteringSerdes create(SchemaRegistryClient client, Map<String, ?> config) {
        return new MeteringSerdes(
                new UsageEventDecoder(client, new AvroDeserializer<>(client, UsageEvent.class)),
                new AvroDeserializer<>(client, ModelPrice.class),
                AvroSerdes.specific(UsageWindowKey.class, client, config, true),
                AvroSerdes.specific(UsageWindowTotals.class, client, config, false),
                AvroSerdes.specific(PricedUsageEvent.class, client, config, false));
    }
}
