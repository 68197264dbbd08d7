package dev.metering.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once must rest on Kafka Streams' public contract only (docs/architecture.md): no main class of
 * any module may use a type from an {@code internals} package of Kafka Streams.
 */
class PublicApiOnlyTest {

    private static final Pattern INTERNALS = Pattern.compile("org\\.apache\\.kafka\\.streams\\.([a-z.]*\\.)?internals");

    @Test
    void shouldUseNoKafkaStreamsInternalsInMainCode() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<Path> sources;
        try (Stream<Path> modules = Files.list(root)) {
            sources = modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).flatMap(PublicApiOnlyTest::javaFiles)
                    .toList();
        }
        assertThat(sources).as("main sources found").anyMatch(p -> p.endsWith("MeteringTopology.java"));
        List<String> offenders = sources.stream().filter(PublicApiOnlyTest::usesInternals).map(root::relativize)
                .map(Path::toString).toList();
        assertThat(offenders).isEmpty();
    }

    private static Stream<Path> javaFiles(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> p.toString().endsWith(".java")).toList().stream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean usesInternals(Path file) {
        try {
            return INTERNALS.matcher(Files.readString(file)).find();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
