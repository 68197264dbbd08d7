package dev.metering.api.price;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.audit.Actor;
import dev.metering.api.audit.AuditLog;
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
 * replayed later must still find the price in force at their time). A version's context and
 * service tiers are stored as the JSON of {@link PriceBookFormat#json} (NULL when it has none).
 */
public final class PriceRepository {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SELECT = "SELECT provider, model, effective_from, input_per_1m_usd, "
            + "cached_input_per_1m_usd, output_per_1m_usd, unit_usd, cache_write_per_1m_usd, "
            + "CAST(context_tiers AS text), CAST(service_tiers AS text) FROM metering.model_prices";

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
    public List<PriceVersion> upsert(Collection<PriceVersion> versions, Actor actor) {
        String[] keys = versions.stream().map(PriceVersion::key).distinct().toArray(String[]::new);
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            List<PriceVersion> before = touched(t, keys);
            var batch = t.batch(t.query("INSERT INTO metering.model_prices (provider, model, effective_from, "
                    + "input_per_1m_usd, cached_input_per_1m_usd, output_per_1m_usd, unit_usd, cache_write_per_1m_usd, "
                    + "context_tiers, service_tiers) VALUES (?, ?, CAST(? AS timestamptz), CAST(? AS numeric), "
                    + "CAST(? AS numeric), CAST(? AS numeric), CAST(? AS numeric), CAST(? AS numeric), CAST(? AS jsonb), "
                    + "CAST(? AS jsonb)) "
                    + "ON CONFLICT (provider, model, effective_from) DO UPDATE SET "
                    + "input_per_1m_usd = excluded.input_per_1m_usd, cached_input_per_1m_usd = excluded.cached_input_per_1m_usd, "
                    + "output_per_1m_usd = excluded.output_per_1m_usd, unit_usd = excluded.unit_usd, "
                    + "cache_write_per_1m_usd = excluded.cache_write_per_1m_usd, context_tiers = excluded.context_tiers, "
                    + "service_tiers = excluded.service_tiers",
                    null, null, null, null, null, null, null, null, null, null));
            for (PriceVersion v : versions) {
                batch.bind(v.provider(), v.model(), v.effectiveFrom().atOffset(ZoneOffset.UTC), v.inputPer1mUsd(),
                        v.cachedInputPer1mUsd(), v.outputPer1mUsd(), v.unitUsd(), v.cacheWritePer1mUsd(),
                        v.contextTiers().isEmpty() ? null : json(PriceTiers.contextTiersJson(v.contextTiers())),
                        v.serviceTiers().isEmpty() ? null : json(PriceTiers.serviceTiersJson(v.serviceTiers())));
            }
            batch.execute();
            List<PriceVersion> after = touched(t, keys);
            AuditLog.write(t, actor, "price.put", "price", keys.length == 1 ? keys[0] : null,
                    before.stream().map(PriceBookFormat::json).toList(), after.stream().map(PriceBookFormat::json).toList());
            return after;
        });
    }

    /** Every stored version of the models {@code keys} ({@code provider/model}). */
    private static List<PriceVersion> touched(DSLContext t, String[] keys) {
        return t.resultQuery(SELECT + " WHERE provider || '/' || model = ANY (CAST(? AS text[])) ORDER BY provider, model, effective_from",
                DSL.val(keys)).fetch(PriceRepository::version);
    }

    private static PriceVersion version(Record r) {
        return new PriceVersion(r.get(0, String.class), r.get(1, String.class),
                r.get(2, OffsetDateTime.class).toInstant(), r.get(3, BigDecimal.class), r.get(4, BigDecimal.class),
                r.get(5, BigDecimal.class), r.get(6, BigDecimal.class), r.get(7, BigDecimal.class),
                PriceTiers.contextTiers(tree(r.get(8, String.class))),
                PriceTiers.serviceTiers(tree(r.get(9, String.class))));
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static com.fasterxml.jackson.databind.JsonNode tree(String json) {
        if (json == null) {
            return null;
        }
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("model_prices holds JSON this version cannot read: " + e.getOriginalMessage(), e);
        }
    }

    static Instant instant(OffsetDateTime t) {
        return t.toInstant();
    }
}
