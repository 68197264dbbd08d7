package dev.metering.streams.pricing;

import dev.metering.avro.ModelPrice;
import dev.metering.events.pricing.PriceSchedule;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The price book: a global store {@value #STORE} over the compacted {@code metering.prices}
 * topic (key {@code provider/model}, value {@code ModelPrice} in Confluent wire format), present
 * in full in every instance, so pricing needs no repartition. The store keeps the raw bytes
 * (exactly what the topic holds, also after a restore); {@link Lookup} decodes each distinct
 * record once per task and caches the decoded {@link PriceSchedule}.
 */
public final class PriceBook {

    public static final String STORE = "prices-store";

    private static final Logger LOG = LoggerFactory.getLogger(PriceBook.class);

    private PriceBook() {
    }

    /** The global store: in memory (rebuilt from the compacted topic on start), no changelog. */
    public static StoreBuilder<KeyValueStore<String, byte[]>> storeBuilder() {
        return Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STORE), Serdes.String(), Serdes.ByteArray())
                .withLoggingDisabled();
    }

    /** Keeps the store in step with the topic; a tombstone removes the model. */
    public static ProcessorSupplier<String, byte[], Void, Void> updater() {
        return () -> new Processor<>() {
            private KeyValueStore<String, byte[]> store;

            @Override
            public void init(ProcessorContext<Void, Void> context) {
                store = context.getStateStore(STORE);
            }

            @Override
            public void process(Record<String, byte[]> record) {
                if (record.key() == null) {
                    LOG.warn("ignoring a price record without a key");
                    return;
                }
                if (record.value() == null) {
                    store.delete(record.key());
                } else {
                    store.put(record.key(), record.value());
                }
            }
        };
    }

    /** Per-task reader of the global store with a cache of decoded schedules. Not thread-safe. */
    public static final class Lookup {
        private final KeyValueStore<String, byte[]> store;
        private final Deserializer<ModelPrice> deserializer;
        private final String topic;
        private final Map<String, Cached> cache = new HashMap<>();

        public Lookup(KeyValueStore<String, byte[]> store, Deserializer<ModelPrice> deserializer, String topic) {
            this.store = store;
            this.deserializer = deserializer;
            this.topic = topic;
        }

        /** The model's schedule, or null when the price book does not know it (or cannot decode it). */
        public PriceSchedule schedule(String key) {
            byte[] raw = store.get(key);
            if (raw == null) {
                cache.remove(key);
                return null;
            }
            Cached cached = cache.get(key);
            if (cached != null && (cached.raw == raw || Arrays.equals(cached.raw, raw))) {
                return cached.schedule;
            }
            PriceSchedule schedule;
            try {
                schedule = PriceSchedule.of(deserializer.deserialize(topic, raw));
            } catch (RuntimeException e) {
                LOG.warn("price record for {} cannot be decoded, the model is treated as unknown: {}", key, e.toString());
                schedule = null;
            }
            cache.put(key, new Cached(raw, schedule));
            return schedule;
        }

        private record Cached(byte[] raw, PriceSchedule schedule) {
        }
    }
}
