package dev.metering.streams.pricing;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.UsageEvent;
import dev.metering.events.pricing.Cost;
import dev.metering.events.pricing.PriceSchedule;
import dev.metering.events.pricing.PriceVersionNanos;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.metrics.MeteringMetrics;
import java.math.BigInteger;
import java.util.Optional;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * Stage 3: price.
 *
 * <p>Input and output: key orgId, value accepted {@link MeteredEvent}; output carries
 * {@code costFemtos} and {@code unpriced}. Reads the global price book {@link PriceBook#STORE}
 * (from {@code metering.prices}). Rules, in order:
 * <ol>
 *   <li>{@code costNanos} set by the producer: cost = costNanos x 1e6 femto-USD, the price book is
 *       not consulted;</li>
 *   <li>an event that carries no tokens and names no provider or model (e.g. a plain
 *       CHAT_MESSAGE) needs no price: cost 0, not unpriced;</li>
 *   <li>the price version of {@code provider/model} in force at {@code occurredAt} (greatest
 *       {@code effectiveFrom <= occurredAt}): cost by {@link Cost#quote} (context tier, cache
 *       writes, service tier), which the event carries on with the version it used;</li>
 *   <li>no version in force (unknown model, or the event predates its first price): the
 *       fallback rate per token for ALL tokens when configured (not counted unpriced), else
 *       cost 0 and unpriced.</li>
 * </ol>
 * Guarantee: exact femto-USD, no rounding per event; no event is ever dropped here.
 */
public final class PriceStage implements FixedKeyProcessor<String, MeteredEvent, MeteredEvent> {

    private final Deserializer<ModelPrice> deserializer;
    private final String pricesTopic;
    private final Optional<BigInteger> fallbackFemtosPerToken;
    private final MeteringMetrics metrics;
    private FixedKeyProcessorContext<String, MeteredEvent> context;
    private PriceBook.Lookup prices;

    public PriceStage(Deserializer<ModelPrice> deserializer, String pricesTopic, Optional<BigInteger> fallbackFemtosPerToken,
            MeteringMetrics metrics) {
        this.deserializer = deserializer;
        this.pricesTopic = pricesTopic;
        this.fallbackFemtosPerToken = fallbackFemtosPerToken;
        this.metrics = metrics;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, MeteredEvent> context) {
        this.context = context;
        this.prices = new PriceBook.Lookup(context.getStateStore(PriceBook.STORE), deserializer, pricesTopic);
    }

    @Override
    public void process(FixedKeyRecord<String, MeteredEvent> record) {
        context.forward(record.withValue(price(record.value())));
    }

    MeteredEvent price(MeteredEvent in) {
        UsageEvent e = in.event();
        if (e.getCostNanos() != null) {
            return in.priced(Cost.ofNanos(e.getCostNanos()), false);
        }
        if (Cost.isFree(e)) {
            return in.priced(BigInteger.ZERO, false);
        }
        PriceSchedule schedule = prices.schedule(PriceSchedule.key(e.getProvider(), e.getModel()));
        PriceVersionNanos version = schedule == null ? null : schedule.inForceAt(e.getOccurredAt().toEpochMilli());
        if (version != null) {
            return in.pricedBy(Cost.quote(e, version), version.effectiveFrom());
        }
        if (fallbackFemtosPerToken.isPresent()) {
            metrics.fallbackPriced();
            return in.priced(Cost.ofFallback(e, fallbackFemtosPerToken.get()), false);
        }
        return in.priced(BigInteger.ZERO, true);
    }
}
