package dev.metering.app;

import dev.metering.events.config.ConfigSource;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Dev mode's addresses for the command-line tools: {@code dev} writes them to
 * {@code <data dir>/addresses.properties}; a tool run where no address is configured and a
 * {@code .metering-dev/} with that file is in the working directory uses them (and says so on
 * stderr), so the README's tour needs no {@code export}s.
 */
final class DevAddresses {

    static final String FILE = "addresses.properties";
    /** Any of these set means the user configured where to connect: dev mode's addresses are then not used. */
    static final List<String> ADDRESSES = List.of("METERING_KAFKA_BOOTSTRAP", "METERING_SCHEMA_REGISTRY_URL",
            "METERING_DB_URL", "METERING_API_URL");
    private static final List<String> WRITTEN = List.of("METERING_KAFKA_BOOTSTRAP", "METERING_SCHEMA_REGISTRY_URL",
            "METERING_DB_URL", "METERING_DB_USER", "METERING_DB_PASSWORD", "METERING_ADMIN_TOKEN",
            "METERING_TOPIC_PARTITIONS");

    private DevAddresses() {
    }

    /** Writes the addresses of a started dev stack ({@code env} as its services run with) into {@code dataDir}. */
    static void write(Path dataDir, Map<String, String> env) {
        Properties p = new Properties();
        for (String name : WRITTEN) {
            if (env.get(name) != null) {
                p.setProperty(name, env.get(name));
            }
        }
        p.setProperty("METERING_API_URL", "http://127.0.0.1:" + env.get("METERING_API_PORT"));
        Path file = dataDir.resolve(FILE);
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(w, "written by `metering.jar dev`: the addresses the command-line tools use when none is configured");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: the admin-token file next to it is no better protected
        }
    }

    /** The environment, or dev mode's addresses under it when none is configured (see the class comment). */
    static ConfigSource source() {
        return source(ConfigSource.fromEnvironment(), Path.of(".metering-dev"), System.err);
    }

    static ConfigSource source(ConfigSource environment, Path devDir, PrintStream notice) {
        Path file = devDir.resolve(FILE);
        if (ADDRESSES.stream().anyMatch(name -> environment.get(name).isPresent()) || !Files.isReadable(file)) {
            return environment;
        }
        notice.println("using dev mode's addresses from " + file + " (set METERING_KAFKA_BOOTSTRAP, "
                + "METERING_DB_URL or METERING_API_URL to connect elsewhere)");
        return ConfigSource.fromPropertiesFile(file).overriddenBy(environment);
    }
}
