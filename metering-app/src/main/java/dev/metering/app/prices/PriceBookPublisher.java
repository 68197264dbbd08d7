package dev.metering.app.prices;

import dev.metering.avro.ModelPrice;
import dev.metering.events.Topics;
import dev.metering.events.registry.SchemaRegistryClient;
import dev.metering.events.serde.AvroSerdes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Applies a price book: every version into {@code metering.model_prices} (upsert by provider,
 * model and effective date, so applying the same file twice changes nothing), then one
 * {@link ModelPrice} per model to the compacted prices topic, key {@code provider/model}, where
 * the streams service picks it up. Until the billing API serves {@code PUT /api/v1/prices}, this
 * is how prices get in.
 */
public final class PriceBookPublisher {

    private PriceBookPublisher() {
    }

    /** Upserts every row; returns the number of rows written. */
    public static int store(Connection connection, List<PriceBookCsv.Row> rows) throws SQLException {
        String sql = "INSERT INTO metering.model_prices (provider, model, effective_from, input_per_1m_usd, "
                + "cached_input_per_1m_usd, output_per_1m_usd, unit_usd) VALUES (?, ?, ?, ?, ?, ?, ?) "
                + "ON CONFLICT (provider, model, effective_from) DO UPDATE SET input_per_1m_usd = excluded.input_per_1m_usd, "
                + "cached_input_per_1m_usd = excluded.cached_input_per_1m_usd, output_per_1m_usd = excluded.output_per_1m_usd, "
                + "unit_usd = excluded.unit_usd";
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (PriceBookCsv.Row r : rows) {
                ps.setString(1, r.provider());
                ps.setString(2, r.model());
                ps.setTimestamp(3, Timestamp.from(r.effectiveFrom()));
                ps.setBigDecimal(4, r.inputPer1mUsd());
                ps.setBigDecimal(5, r.cachedInputPer1mUsd());
                ps.setBigDecimal(6, r.outputPer1mUsd());
                ps.setBigDecimal(7, r.unitUsd());
                ps.addBatch();
            }
            ps.executeBatch();
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
        return rows.size();
    }

    /** Publishes one record per model and waits for every acknowledgement; returns the count. */
    public static int publish(Map<String, Object> kafkaProperties, SchemaRegistryClient registry, Topics topics,
                              List<ModelPrice> prices) {
        Map<String, Object> props = new HashMap<>(kafkaProperties);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "metering-prices");
        try (Serializer<ModelPrice> serializer = AvroSerdes.specific(ModelPrice.class, registry,
                Map.of("auto.register.schemas", true), false).serializer();
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                     new ByteArraySerializer())) {
            List<Future<RecordMetadata>> acks = new java.util.ArrayList<>();
            for (ModelPrice p : prices) {
                String key = p.getProvider() + "/" + p.getModel();
                acks.add(producer.send(new ProducerRecord<>(topics.prices(), key, serializer.serialize(topics.prices(), p))));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
            return prices.size();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing prices", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot publish prices to " + topics.prices() + ": " + e.getCause(), e.getCause());
        }
    }
}
