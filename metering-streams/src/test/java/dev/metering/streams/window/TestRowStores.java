package dev.metering.streams.window;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/** The aggregate stage's stores in memory, without changelog or cache, for processor-level tests. */
final class TestRowStores {

    private TestRowStores() {
    }

    static KeyValueStore<Bytes, byte[]> inMemory(String name) {
        return Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray())
                .withLoggingDisabled().withCachingDisabled().build();
    }
}
