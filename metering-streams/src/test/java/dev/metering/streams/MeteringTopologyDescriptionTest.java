package dev.metering.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.events.Topics;
import dev.metering.events.registry.InMemorySchemaRegistryClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pins the topology's shape: a renamed processor, store or repartition topic changes state and
 * internal topic names of running applications, so such a change must show up in review.
 * After an intended change: {@code mvn -pl metering-streams test -Dtest=MeteringTopologyDescriptionTest -Dgolden.update=true}.
 */
class MeteringTopologyDescriptionTest {

    private static final Path GOLDEN = Path.of("src/test/resources/topology-description.txt");

    @Test
    void shouldMatchTheCheckedInTopologyDescription() throws IOException {
        MeteringSerdes serdes = MeteringSerdes.create(new InMemorySchemaRegistryClient(), Map.of());
        String described = MeteringTopology.build(TopologyConfig.defaults(Topics.defaults(), Clock.systemUTC()), serdes)
                .describe().toString();

        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(GOLDEN, described, StandardCharsets.UTF_8);
        }
        assertThat(GOLDEN).exists();
        assertThat(described).isEqualTo(Files.readString(GOLDEN, StandardCharsets.UTF_8));
    }

    @Test
    void shouldNameEveryProcessorStoreAndTopic() {
        MeteringSerdes serdes = MeteringSerdes.create(new InMemorySchemaRegistryClient(), Map.of());
        String described = MeteringTopology.build(TopologyConfig.defaults(Topics.defaults(), Clock.systemUTC()), serdes)
                .describe().toString();

        assertThat(described).doesNotContain("KSTREAM-").doesNotContain("KTABLE-").doesNotContain("KSTREAM-GLOBALSTORE");
    }
}
