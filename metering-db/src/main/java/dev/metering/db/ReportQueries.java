package dev.metering.db;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The named report queries of {@code classpath:sql/reports.sql}, each
 * block introduced by a {@code -- name: <name>} line, in file order.
 */
public final class ReportQueries {

    /** Where the queries live on the classpath. */
    public static final String RESOURCE = "sql/reports.sql";

    private static final String NAME_MARKER = "-- name:";

    private ReportQueries() {
    }

    /** Every query by name, in file order; the text is exactly as written, comments included. */
    public static Map<String, String> load() {
        try (InputStream in = ReportQueries.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the classpath");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, String> parse(String script) {
        Map<String, String> queries = new LinkedHashMap<>();
        String name = null;
        StringBuilder body = new StringBuilder();
        for (String line : script.split("\n", -1)) {
            if (line.startsWith(NAME_MARKER)) {
                if (name != null) {
                    queries.put(name, body.toString().strip());
                }
                name = line.substring(NAME_MARKER.length()).strip();
                body.setLength(0);
            } else if (name != null) {
                body.append(line).append('\n');
            }
        }
        if (name != null) {
            queries.put(name, body.toString().strip());
        }
        return Collections.unmodifiableMap(queries);
    }
}
