package dev.metering.api.price;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.UsageEvent;
import dev.metering.events.pricing.Cost;
import dev.metering.events.pricing.PriceSchedule;
import dev.metering.events.pricing.PriceVersionNanos;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An event's cost as the pipeline will price it, estimated at ingest from the stored price book
 * ({@code metering.model_prices}, what {@code PUT /api/v1/prices} wrote and published): the
 * streams PriceStage's rules on the same {@link PriceSchedule} and {@link Cost} (metering-events),
 * rounded half-even to nano-USD as the event log shows it. No version in force: no estimate
 * (null), because the pipeline then applies its fallback rate, which only streams knows.
 *
 * <p>The book is held in memory and read again every second and after each price PUT on this
 * instance, so ingest never waits for the database; an estimate may use a book up to a second old.
 *
 * <p>An estimate, not the count: the price book may change before the event is priced, and an
 * event can still be a duplicate or late. The event log and the usage tables are authoritative.
 */
public final class CostEstimator {

    private final PriceRepository repository;
    private volatile Book book = new Book(List.of());

    public CostEstimator(PriceRepository repository) {
        this.repository = repository;
    }

    /** Reads the whole price book again (the API does it every second and after each PUT). */
    public void refresh() {
        book = new Book(repository.all());
    }

    /** The price book as last read: estimating never waits for the database. */
    public Book book() {
        return book;
    }

    /** Price schedules by model, as streams decodes them from the published records. */
    public static final class Book {
        private final Map<String, PriceSchedule> byKey = new HashMap<>();

        public Book(List<PriceVersion> versions) {
            for (ModelPrice p : PriceService.toModelPrices(versions)) {
                byKey.put(PriceSchedule.key(p.getProvider(), p.getModel()), PriceSchedule.of(p));
            }
        }

        /** The estimated cost in USD with 9 decimals, or null when no price is in force for the event's model. */
        public BigDecimal estimate(UsageEvent e) {
            if (e.getCostNanos() != null) {
                return BigDecimal.valueOf(e.getCostNanos(), 9);
            }
            if (Cost.isFree(e)) {
                return BigDecimal.ZERO.setScale(9);
            }
            PriceSchedule schedule = byKey.get(PriceSchedule.key(e.getProvider(), e.getModel()));
            PriceVersionNanos v = schedule == null ? null : schedule.inForceAt(e.getOccurredAt().toEpochMilli());
            return v == null ? null : new BigDecimal(Cost.of(e, v), 15).setScale(9, RoundingMode.HALF_EVEN);
        }
    }
}
