package dev.metering.api.plan;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The catalogs of the repository's {@code examples/} directory, one per seed system. */
public final class ExampleCatalogs {

    public static final String SEED_000 = "000-chat-rate-limiting.yaml";
    public static final String SEED_001 = "001-chat-quota-licensing.yaml";
    public static final String SEED_002 = "002-org-usage-tracking.yaml";
    public static final String SEED_003 = "003-usage-based-billing.yaml";
    public static final String SEED_004 = "004-prepaid-credits-pricing.yaml";

    private ExampleCatalogs() {
    }

    public static Path directory() {
        for (Path p : new Path[] {Path.of("..", "examples"), Path.of("examples")}) {
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        throw new IllegalStateException("examples/ not found from " + Path.of("").toAbsolutePath());
    }

    public static String text(String file) {
        try {
            return Files.readString(directory().resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static PlanCatalog load(String file) {
        return CatalogParser.parse(text(file), CatalogParser.Format.YAML);
    }
}
