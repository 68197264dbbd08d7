package dev.metering.api.price;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The price book's two wire formats, validated as a whole (every problem reported, each naming
 * its line or index and its column or field):
 * <ul>
 *   <li>CSV, the columns of {@code examples/model-prices.csv}: a header row naming
 *       {@code provider,model,input_per_1m_usd,cached_input_per_1m_usd,output_per_1m_usd,effective_from}
 *       in any order, plus optional {@code unit_usd}; {@code #} lines and blank lines are skipped; no
 *       quoting (names never contain commas);</li>
 *   <li>JSON: {@code {"prices":[{provider, model, effectiveFrom, inputPer1mUsd, cachedInputPer1mUsd,
 *       outputPer1mUsd, unitUsd}]}} (or the bare array), money as decimal strings.</li>
 * </ul>
 * Money: plain decimals (no exponent), not negative, at most 9 decimals (nano-USD), below
 * 1,000,000 USD; {@code effective_from} a UTC date ({@code 2025-08-07}) or an ISO instant.
 * One (provider, model, effective_from) appears once. A provider contains no {@code /} (the topic
 * key is {@code provider/model}).
 */
public final class PriceBookFormat {

    public static final List<String> CSV_COLUMNS = List.of("provider", "model", "input_per_1m_usd",
            "cached_input_per_1m_usd", "output_per_1m_usd", "effective_from");
    public static final String UNIT_COLUMN = "unit_usd";
    private static final Set<String> JSON_FIELDS = Set.of("provider", "model", "effectiveFrom", "inputPer1mUsd",
            "cachedInputPer1mUsd", "outputPer1mUsd", "unitUsd");
    private static final BigDecimal MAX_USD = new BigDecimal("1000000");
    private static final int MAX_NAME = 256;

    private PriceBookFormat() {
    }

    public static List<PriceVersion> parseCsv(String text) {
        List<String> problems = new ArrayList<>();
        List<PriceVersion> out = new ArrayList<>();
        String[] lines = text.split("\\R", -1);
        Map<String, Integer> columns = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cells = line.split(",", -1);
            String where = "line " + (i + 1);
            if (columns == null) {
                columns = header(cells, where, problems);
                if (columns == null) {
                    break;
                }
                continue;
            }
            if (cells.length != columns.size()) {
                problems.add(where + ": expected " + columns.size() + " columns, got " + cells.length);
                continue;
            }
            Map<String, String> row = new LinkedHashMap<>();
            columns.forEach((name, idx) -> row.put(name, cells[idx].strip()));
            int before = problems.size();
            String provider = name(row.get("provider"), where + ", provider", problems, true);
            String model = name(row.get("model"), where + ", model", problems, false);
            Instant from = instant(row.get("effective_from"), where + ", effective_from", problems);
            BigDecimal in = usd(row.get("input_per_1m_usd"), where + ", input_per_1m_usd", problems, true);
            BigDecimal cached = usd(row.get("cached_input_per_1m_usd"), where + ", cached_input_per_1m_usd", problems, true);
            BigDecimal outp = usd(row.get("output_per_1m_usd"), where + ", output_per_1m_usd", problems, true);
            BigDecimal unit = usd(row.get(UNIT_COLUMN), where + ", unit_usd", problems, false);
            if (problems.size() == before) {
                out.add(new PriceVersion(provider, model, from, in, cached, outp, unit));
            }
        }
        if (columns == null && problems.isEmpty()) {
            problems.add("line 1: a header row is required: " + String.join(",", CSV_COLUMNS) + "[," + UNIT_COLUMN + "]");
        }
        return finish(out, problems, true);
    }

    private static Map<String, Integer> header(String[] cells, String where, List<String> problems) {
        Map<String, Integer> columns = new LinkedHashMap<>();
        for (int c = 0; c < cells.length; c++) {
            String name = cells[c].strip();
            if (!CSV_COLUMNS.contains(name) && !UNIT_COLUMN.equals(name)) {
                problems.add(where + ", column " + (c + 1) + ": unknown column '" + name + "' (expected "
                        + String.join(",", CSV_COLUMNS) + "[," + UNIT_COLUMN + "])");
            } else if (columns.put(name, c) != null) {
                problems.add(where + ", column " + (c + 1) + ": duplicate column '" + name + "'");
            }
        }
        for (String required : CSV_COLUMNS) {
            if (!columns.containsKey(required)) {
                problems.add(where + ": missing column '" + required + "'");
            }
        }
        return problems.isEmpty() ? columns : null;
    }

    public static List<PriceVersion> parseJson(JsonNode body) {
        List<String> problems = new ArrayList<>();
        JsonNode list = body != null && body.isObject() ? body.get("prices") : body;
        if (body != null && body.isObject()) {
            for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("prices")) {
                    problems.add(f + ": unknown field (expected prices)");
                }
            }
        }
        if (list == null || !list.isArray()) {
            problems.add("prices: expected an array of prices");
            throw new PriceBookException(problems);
        }
        List<PriceVersion> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode p = list.get(i);
            String where = "prices[" + i + "]";
            if (!p.isObject()) {
                problems.add(where + ": expected an object");
                continue;
            }
            int before = problems.size();
            for (Iterator<String> it = p.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!JSON_FIELDS.contains(f)) {
                    problems.add(where + "." + f + ": unknown field");
                }
            }
            String provider = name(text(p, "provider"), where + ".provider", problems, true);
            String model = name(text(p, "model"), where + ".model", problems, false);
            Instant from = instant(text(p, "effectiveFrom"), where + ".effectiveFrom", problems);
            BigDecimal in = usd(text(p, "inputPer1mUsd"), where + ".inputPer1mUsd", problems, true);
            BigDecimal cached = usd(text(p, "cachedInputPer1mUsd"), where + ".cachedInputPer1mUsd", problems, true);
            BigDecimal outp = usd(text(p, "outputPer1mUsd"), where + ".outputPer1mUsd", problems, true);
            BigDecimal unit = usd(text(p, "unitUsd"), where + ".unitUsd", problems, false);
            if (problems.size() == before) {
                out.add(new PriceVersion(provider, model, from, in, cached, outp, unit));
            }
        }
        return finish(out, problems, false);
    }

    private static List<PriceVersion> finish(List<PriceVersion> out, List<String> problems, boolean csv) {
        Set<String> seen = new HashSet<>();
        for (PriceVersion v : out) {
            if (!seen.add(v.key() + "@" + v.effectiveFrom())) {
                problems.add(v.key() + ": effective_from " + v.effectiveFrom() + " appears more than once");
            }
        }
        if (problems.isEmpty() && out.isEmpty()) {
            problems.add((csv ? "body" : "prices") + ": the price book has no prices");
        }
        if (!problems.isEmpty()) {
            throw new PriceBookException(problems);
        }
        return out;
    }

    private static String text(JsonNode p, String field) {
        JsonNode v = p.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        return v.isNumber() ? v.decimalValue().toPlainString() : v.asText();
    }

    private static String name(String value, String where, List<String> problems, boolean provider) {
        if (value == null || value.isBlank()) {
            problems.add(where + ": required");
            return null;
        }
        String v = value.strip();
        if (v.length() > MAX_NAME) {
            problems.add(where + ": at most " + MAX_NAME + " characters");
        } else if (provider && v.contains("/")) {
            problems.add(where + ": '" + v + "' must not contain '/' (the price key is provider/model)");
        }
        return v;
    }

    private static Instant instant(String value, String where, List<String> problems) {
        if (value == null || value.isBlank()) {
            problems.add(where + ": required (a UTC date such as 2025-08-07 or an ISO-8601 instant)");
            return null;
        }
        try {
            return value.length() == 10 ? LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : Instant.parse(value);
        } catch (DateTimeParseException e) {
            problems.add(where + ": '" + value + "' is not a UTC date such as 2025-08-07 or an ISO-8601 instant");
            return null;
        }
    }

    private static BigDecimal usd(String value, String where, List<String> problems, boolean required) {
        if (value == null || value.isBlank()) {
            if (required) {
                problems.add(where + ": required");
            }
            return null;
        }
        if (!value.matches("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)")) {
            problems.add(where + ": '" + value + "' is not a plain decimal number such as 1.25");
            return null;
        }
        BigDecimal d = new BigDecimal(value);
        if (d.signum() < 0) {
            problems.add(where + ": " + value + " must not be negative");
        } else if (d.stripTrailingZeros().scale() > 9) {
            problems.add(where + ": " + value + " is finer than 1 nano-USD (at most 9 decimals)");
        } else if (d.compareTo(MAX_USD) >= 0) {
            problems.add(where + ": " + value + " must be below 1000000");
        }
        return d;
    }

    /** Canonical money text: no exponent, no trailing zeros. */
    public static String money(BigDecimal d) {
        if (d == null) {
            return null;
        }
        return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
    }

    /** {@code 2025-08-07} for a UTC midnight, else the ISO instant. */
    public static String effectiveFrom(Instant t) {
        return t.atOffset(ZoneOffset.UTC).toLocalTime().toNanoOfDay() == 0
                ? t.atOffset(ZoneOffset.UTC).toLocalDate().toString() : t.toString();
    }

    public static String toCsv(List<PriceVersion> versions) {
        boolean unit = versions.stream().anyMatch(v -> v.unitUsd() != null);
        StringBuilder sb = new StringBuilder(String.join(",", CSV_COLUMNS)).append(unit ? "," + UNIT_COLUMN : "")
                .append('\n');
        for (PriceVersion v : versions) {
            sb.append(v.provider()).append(',').append(v.model()).append(',').append(money(v.inputPer1mUsd())).append(',')
                    .append(money(v.cachedInputPer1mUsd())).append(',').append(money(v.outputPer1mUsd())).append(',')
                    .append(effectiveFrom(v.effectiveFrom()));
            if (unit) {
                sb.append(',').append(v.unitUsd() == null ? "" : money(v.unitUsd()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
