package dev.metering.api.price;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;

/**
 * {@code metering.model_prices}: one row per (provider, model, effective_from). Upserts by that
 * key, so applying the same book twice changes nothing; versions are never deleted (events
 * replayed later must still find the price in force at their time).
 */
public final class PriceRepository {

    private static final String SELECT = "SELECT provider, model, effective_from, input_per_1m_usd, "
            + "cached_input_per_1m_usd, output_per_1m_usd, unit_usd FROM metering.model_prices";

    private final DSLContext dsl;

    public PriceRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    public List<PriceVersion> all() {
        return dsl.resultQuery(SELECT + " ORDER BY provider, model, effective_from").fetch(PriceRepository::version);
    }

    /**
     * Upserts {@code versions} and returns every stored version of the models they touch, in one
     * transaction (what is then published per model: newest version plus history).
     */
    public List<PriceVersion> upsert(Collection<PriceVersion> versions) {
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            var batch = t.batch(t.query("INSERT INTO metering.model_prices (provider, model, effective_from, "
                    + "input_per_1m_usd, cached_input_per_1m_usd, output_per_1m_usd, unit_usd) VALUES (?, ?, CAST(? AS timestamptz), CAST(? AS numeric), CAST(? AS numeric), CAST(? AS numeric), CAST(? AS numeric)) "
                    + "ON CONFLICT (provider, model, effective_from) DO UPDATE SET "
                    + "input_per_1m_usd = excluded.input_per_1m_usd, cached_input_per_1m_usd = excluded.cached_input_per_1m_usd, "
                    + "output_per_1m_usd = excluded.output_per_1m_usd, unit_usd = excluded.unit_usd",
                    null, null, null, null, null, null, null));
            for (PriceVersion v : versions) {
                batch.bind(v.provider(), v.model(), v.effectiveFrom().atOffset(ZoneOffset.UTC), v.inputPer1mUsd(),
                        v.cachedInputPer1mUsd(), v.outputPer1mUsd(), v.unitUsd());
            }
            batch.execute();
            String[] keys = versions.stream().map(PriceVersion::key).distinct().toArray(String[]::new);
            return t.resultQuery(SELECT + " WHERE provider || '/' || model = ANY (CAST(? AS text[])) ORDER BY provider, model, effective_from",
                    DSL.val(keys)).fetch(PriceRepository::version);
        });
    }

    private static PriceVersion version(Record r) {
        return new PriceVersion(r.get(0, String.class), r.get(1, String.class),
                r.get(2, OffsetDateTime.class).toInstant(), r.get(3, BigDecimal.class), r.get(4, BigDecimal.class),
                r.get(5, BigDecimal.class), r.get(6, BigDecimal.class));
    }

    static Instant instant(OffsetDateTime t) {
        return t.toInstant();
    }
}
