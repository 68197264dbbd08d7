package dev.metering.app.prices;

import dev.metering.avro.ModelPrice;
import dev.metering.avro.ModelPriceVersion;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The price book as CSV: {@code provider,model,input_per_1m_usd,cached_input_per_1m_usd,
 * output_per_1m_usd,effective_from[,unit_usd]}, USD per 1 million tokens, {@code effective_from}
 * a UTC date or ISO instant; {@code #} lines are comments. Several rows of one model are its price
 * history. Money is converted exactly to nano-USD (more than 9 decimals is an error, not rounded).
 */
public final class PriceBookCsv {

    /** One row: a price version of one model. */
    public record Row(String provider, String model, Instant effectiveFrom, BigDecimal inputPer1mUsd,
                      BigDecimal cachedInputPer1mUsd, BigDecimal outputPer1mUsd, BigDecimal unitUsd) {

        public String key() {
            return provider + "/" + model;
        }
    }

    private PriceBookCsv() {
    }

    public static List<Row> read(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** Parses the CSV text; throws {@link IllegalArgumentException} naming every bad line. */
    public static List<Row> parse(String text, String origin) {
        List<Row> rows = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        String[] lines = text.split("\\R");
        boolean header = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (!header) {
                header = true;
                if (line.startsWith("provider,")) {
                    continue;
                }
            }
            String[] f = line.split(",", -1);
            String where = origin + ":" + (i + 1);
            if (f.length < 6 || f.length > 7) {
                problems.add(where + ": expected 6 or 7 columns, got " + f.length);
                continue;
            }
            try {
                rows.add(new Row(nonEmpty(f[0], "provider"), nonEmpty(f[1], "model"), instant(f[5].strip()),
                        usd(f[2], "input_per_1m_usd"), usd(f[3], "cached_input_per_1m_usd"),
                        usd(f[4], "output_per_1m_usd"), f.length == 7 && !f[6].isBlank() ? usd(f[6], "unit_usd") : null));
            } catch (IllegalArgumentException e) {
                problems.add(where + ": " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("\n", problems));
        }
        return rows;
    }

    /** One {@link ModelPrice} per model: its newest version, earlier versions in {@code history}. */
    public static List<ModelPrice> toModelPrices(List<Row> rows) {
        Map<String, List<Row>> byKey = new LinkedHashMap<>();
        rows.forEach(r -> byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r));
        List<ModelPrice> out = new ArrayList<>();
        for (List<Row> versions : byKey.values()) {
            versions.sort(Comparator.comparing(Row::effectiveFrom));
            Row current = versions.get(versions.size() - 1);
            List<ModelPriceVersion> history = new ArrayList<>();
            for (Row r : versions.subList(0, versions.size() - 1)) {
                history.add(ModelPriceVersion.newBuilder().setEffectiveFrom(r.effectiveFrom())
                        .setInputPer1MNanos(nanos(r.inputPer1mUsd())).setCachedInputPer1MNanos(nanos(r.cachedInputPer1mUsd()))
                        .setOutputPer1MNanos(nanos(r.outputPer1mUsd()))
                        .setUnitNanos(r.unitUsd() == null ? null : nanos(r.unitUsd())).build());
            }
            out.add(ModelPrice.newBuilder().setProvider(current.provider()).setModel(current.model())
                    .setEffectiveFrom(current.effectiveFrom())
                    .setInputPer1MNanos(nanos(current.inputPer1mUsd()))
                    .setCachedInputPer1MNanos(nanos(current.cachedInputPer1mUsd()))
                    .setOutputPer1MNanos(nanos(current.outputPer1mUsd()))
                    .setUnitNanos(current.unitUsd() == null ? null : nanos(current.unitUsd()))
                    .setHistory(history).build());
        }
        return out;
    }

    /** Exact USD to nano-USD. */
    public static long nanos(BigDecimal usd) {
        return usd.movePointRight(9).longValueExact();
    }

    private static String nonEmpty(String value, String column) {
        String v = value.strip();
        if (v.isEmpty()) {
            throw new IllegalArgumentException(column + " is empty");
        }
        return v;
    }

    private static BigDecimal usd(String value, String column) {
        BigDecimal d;
        try {
            d = new BigDecimal(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(column + " '" + value.strip() + "' is not a decimal number");
        }
        if (d.signum() < 0) {
            throw new IllegalArgumentException(column + " must not be negative");
        }
        if (d.stripTrailingZeros().scale() > 9) {
            throw new IllegalArgumentException(column + " '" + value.strip() + "' is finer than 1 nano-USD");
        }
        return d;
    }

    private static Instant instant(String value) {
        try {
            return value.length() == 10 ? LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : Instant.parse(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("effective_from '" + value + "' is not a date (2025-08-07) or an instant");
        }
    }
}
