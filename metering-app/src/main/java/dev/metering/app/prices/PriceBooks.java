package dev.metering.app.prices;

import dev.metering.api.audit.Actor;
import dev.metering.api.ApiException;
import dev.metering.api.config.KafkaSettings;
import dev.metering.api.kafka.KafkaClients;
import dev.metering.api.price.PriceBookException;
import dev.metering.api.price.PriceBookFormat;
import dev.metering.api.price.PriceRepository;
import dev.metering.api.price.PriceService;
import dev.metering.api.price.PriceVersion;
import dev.metering.app.UserException;
import java.time.Clock;
import java.util.List;
import org.jooq.CloseableDSLContext;
import org.jooq.impl.DSL;

/**
 * Applies a price book CSV from the command line exactly as {@code PUT /api/v1/prices} does, with
 * the billing API's own parser and service: every version is upserted into
 * {@code metering.model_prices}, then one {@code ModelPrice} per touched model (the newest version,
 * every stored earlier one as its history) is published to the compacted prices topic. Applying
 * the same book twice changes nothing.
 */
public final class PriceBooks {

    private PriceBooks() {
    }

    /** Parses, stores and publishes; a bad book or an unreachable Kafka is a {@link UserException}. */
    public static PriceService.Applied apply(String csv, String origin, String jdbcUrl, String user, String password,
                                             KafkaSettings kafka) {
        List<PriceVersion> versions;
        try {
            versions = PriceBookFormat.parseCsv(csv);
        } catch (PriceBookException e) {
            throw new UserException(origin + ": " + String.join("\n" + origin + ": ", e.problems()));
        }
        try (CloseableDSLContext dsl = DSL.using(jdbcUrl, user, password);
             KafkaClients clients = new KafkaClients(kafka, Clock.systemUTC())) {
            return new PriceService(new PriceRepository(dsl), clients).apply(versions, Actor.tool("cli", Clock.systemUTC().instant()));
        } catch (ApiException e) {
            throw new UserException(origin + ": " + e.getMessage());
        }
    }
}
