package dev.metering.api.price;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.InputBounds;
import dev.metering.api.csv.Csv;
import dev.metering.api.json.DecimalRule;
import dev.metering.api.json.JsonFields;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
 *       in any order, plus optional {@code unit_usd}, {@code cache_write_per_1m_usd},
 *       {@code above_input_tokens} and {@code service_tiers}; {@code #} lines and blank lines are
 *       skipped; no quoting (names never contain commas). A row with {@code above_input_tokens}
 *       is a context tier of the version with the same provider, model and effective_from (whose
 *       own row leaves it empty); {@code service_tiers} is {@code batch=0.5;priority=2} on the
 *       version's row;</li>
 *   <li>JSON: {@code {"prices":[{provider, model, effectiveFrom, inputPer1mUsd, cachedInputPer1mUsd,
 *       outputPer1mUsd, unitUsd, cacheWritePer1mUsd, contextTiers: [{aboveInputTokens, inputPer1mUsd,
 *       cachedInputPer1mUsd, cacheWritePer1mUsd, outputPer1mUsd}], serviceTiers: {batch: {multiplier}}}]}}
 *       (or the bare array), money and multipliers as decimal strings.</li>
 * </ul>
 * Money: plain decimals (no exponent), not negative, at most 9 decimals (nano-USD), below
 * 1,000,000 USD; {@code effective_from} a UTC date ({@code 2025-08-07}) or an ISO instant.
 * One (provider, model, effective_from) appears once. A provider contains no {@code /} (the topic
 * key is {@code provider/model}). Context tiers: at most {@value PriceTiers#MAX_CONTEXT_TIERS}, thresholds
 * whole numbers from 1 to 10^10, strictly ascending (so none twice); the cache-write price on the
 * version and every tier or on none. Service tiers: {@code batch}, {@code flex} or
 * {@code priority}, each once, multiplier above 0, at most 100, at most 6 decimals.
 */
public final class PriceBookFormat {

    public static final List<String> CSV_COLUMNS = List.of("provider", "model", "input_per_1m_usd",
            "cached_input_per_1m_usd", "output_per_1m_usd", "effective_from");
    public static final String UNIT_COLUMN = "unit_usd";
    public static final String CACHE_WRITE_COLUMN = "cache_write_per_1m_usd";
    public static final String ABOVE_COLUMN = "above_input_tokens";
    public static final String SERVICE_TIERS_COLUMN = "service_tiers";
    /** The optional columns, in the order {@link #toCsv} writes them. */
    public static final List<String> OPTIONAL_COLUMNS = List.of(UNIT_COLUMN, CACHE_WRITE_COLUMN, ABOVE_COLUMN,
            SERVICE_TIERS_COLUMN);
    private static final Set<String> JSON_FIELDS = Set.of("provider", "model", "effectiveFrom", "inputPer1mUsd",
            "cachedInputPer1mUsd", "outputPer1mUsd", "unitUsd", "cacheWritePer1mUsd", "contextTiers", "serviceTiers");
    private static final int MAX_NAME = 256;

    private PriceBookFormat() {
    }


    public static List<PriceVersion> parseCsv(String text) {
        List<String> problems = new ArrayList<>();
        List<PriceVersion> out = new ArrayList<>();
        Map<String, List<PriceTiers.TierAt>> tiersByVersion = new LinkedHashMap<>();
        Map<String, String> tierVersionLine = new LinkedHashMap<>();
        // versions with their own row (even one refused for another problem): whether it has a cache-write price
        Map<String, Boolean> baseRows = new HashMap<>();
        List<Csv.Record> records;
        try {
            records = Csv.parse(text);
        } catch (Csv.MalformedException e) {
            throw new PriceBookException(List.of(e.getMessage()));
        }
        Map<String, Integer> columns = null;
        for (Csv.Record record : records) {
            if (record.comment() || record.cells().size() == 1 && record.cells().get(0).isBlank()) {
                continue;
            }
            String[] cells = record.cells().toArray(String[]::new);
            String where = "line " + record.line();
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
            BigDecimal unit = usd(row.get(UNIT_COLUMN), where + ", " + UNIT_COLUMN, problems, false);
            BigDecimal cacheWrite = usd(row.get(CACHE_WRITE_COLUMN), where + ", " + CACHE_WRITE_COLUMN, problems, false);
            String above = row.get(ABOVE_COLUMN);
            String serviceTiersCell = row.get(SERVICE_TIERS_COLUMN);
            if (above != null && !above.isEmpty()) {
                Long threshold = PriceTiers.threshold(above, where + ", " + ABOVE_COLUMN, problems);
                if (unit != null) {
                    problems.add(where + ", " + UNIT_COLUMN + ": a context tier row has no unit price (it is the version's)");
                }
                if (serviceTiersCell != null && !serviceTiersCell.isEmpty()) {
                    problems.add(where + ", " + SERVICE_TIERS_COLUMN
                            + ": a context tier row has no service tiers (they are the version's, on its own row)");
                }
                if (problems.size() == before) {
                    String version = provider + "/" + model + "@" + from;
                    tiersByVersion.computeIfAbsent(version, k -> new ArrayList<>()).add(new PriceTiers.TierAt(
                            new PriceVersion.ContextTier(threshold, in, cached, cacheWrite, outp), where,
                            where + ", " + ABOVE_COLUMN, where + ", " + CACHE_WRITE_COLUMN));
                    tierVersionLine.putIfAbsent(version, where);
                }
                continue;
            }
            baseRows.put(provider + "/" + model + "@" + from, cacheWrite != null);
            Map<String, BigDecimal> serviceTiers = PriceTiers.serviceTiersCell(serviceTiersCell,
                    where + ", " + SERVICE_TIERS_COLUMN, problems);
            if (problems.size() == before) {
                out.add(new PriceVersion(provider, model, from, in, cached, outp, unit, cacheWrite, List.of(), serviceTiers));
            }
        }
        if (columns == null && problems.isEmpty()) {
            problems.add("line 1: a header row is required: " + String.join(",", CSV_COLUMNS) + "[," + UNIT_COLUMN + "]");
        }
        List<PriceVersion> withTiers = new ArrayList<>();
        for (PriceVersion v : out) {
            List<PriceTiers.TierAt> tiers = tiersByVersion.remove(v.key() + "@" + v.effectiveFrom());
            if (tiers == null) {
                withTiers.add(v);
                continue;
            }
            PriceTiers.contextTiers(tiers, v.cacheWritePer1mUsd(), problems);
            withTiers.add(withContextTiers(v, tiers));
        }
        tiersByVersion.forEach((version, tiers) -> {
            if (baseRows.containsKey(version)) { // the version's row was refused: its tiers are still checked
                PriceTiers.contextTiers(tiers, baseRows.get(version) ? BigDecimal.ONE : null, problems);
            } else {
                problems.add(tierVersionLine.get(version) + ", " + ABOVE_COLUMN + ": a context tier of "
                        + version.replace("@", " effective ") + " needs that version's own row (with " + ABOVE_COLUMN
                        + " empty)");
            }
        });
        return finish(withTiers, problems, true);
    }

    private static Map<String, Integer> header(String[] cells, String where, List<String> problems) {
        Map<String, Integer> columns = new LinkedHashMap<>();
        for (int c = 0; c < cells.length; c++) {
            String name = cells[c].strip();
            if (!CSV_COLUMNS.contains(name) && !OPTIONAL_COLUMNS.contains(name)) {
                problems.add(where + ", column " + (c + 1) + ": unknown column '" + name + "' (expected "
                        + String.join(",", CSV_COLUMNS) + " and optionally " + String.join(",", OPTIONAL_COLUMNS) + ")");
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
            new JsonFields(body, "", JsonFields.collectInto(problems)).onlyFields(Set.of("prices"), " (expected prices)");
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
            new JsonFields(p, where + ".", JsonFields.collectInto(problems)).onlyFields(JSON_FIELDS, "");
            String provider = name(text(p, "provider"), where + ".provider", problems, true);
            String model = name(text(p, "model"), where + ".model", problems, false);
            Instant from = instant(text(p, "effectiveFrom"), where + ".effectiveFrom", problems);
            BigDecimal in = usd(p, "inputPer1mUsd", where + ".inputPer1mUsd", problems, true);
            BigDecimal cached = usd(p, "cachedInputPer1mUsd", where + ".cachedInputPer1mUsd", problems, true);
            BigDecimal outp = usd(p, "outputPer1mUsd", where + ".outputPer1mUsd", problems, true);
            BigDecimal unit = usd(p, "unitUsd", where + ".unitUsd", problems, false);
            BigDecimal cacheWrite = usd(p, "cacheWritePer1mUsd", where + ".cacheWritePer1mUsd", problems, false);
            List<PriceTiers.TierAt> tiers = PriceTiers.jsonContextTiers(p.get("contextTiers"), where + ".contextTiers",
                    problems);
            Map<String, BigDecimal> serviceTiers = PriceTiers.jsonServiceTiers(p.get("serviceTiers"), where + ".serviceTiers",
                    problems);
            if (problems.size() == before) {
                PriceTiers.contextTiers(tiers, cacheWrite, problems);
            }
            if (problems.size() == before) {
                out.add(withContextTiers(new PriceVersion(provider, model, from, in, cached, outp, unit, cacheWrite, List.of(),
                        serviceTiers), tiers));
            }
        }
        return finish(out, problems, false);
    }








    private static PriceVersion withContextTiers(PriceVersion v, List<PriceTiers.TierAt> tiers) {
        return new PriceVersion(v.provider(), v.model(), v.effectiveFrom(), v.inputPer1mUsd(), v.cachedInputPer1mUsd(),
                v.outputPer1mUsd(), v.unitUsd(), v.cacheWritePer1mUsd(), tiers.stream().map(PriceTiers.TierAt::tier).toList(),
                v.serviceTiers());
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

    static String text(JsonNode p, String field) {
        JsonNode v = p.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isNumber()) {
            try {
                return InputBounds.decimal(v).toPlainString();
            } catch (NumberFormatException e) {
                return v.toString(); // the exponent form, refused as "not a plain decimal number"
            }
        }
        return v.asText();
    }

    private static String name(String value, String where, List<String> problems, boolean provider) {
        if (value == null || value.isBlank()) {
            problems.add(where + ": required");
            return null;
        }
        String v = value.strip();
        if (v.length() > MAX_NAME) {
            problems.add(where + ": at most " + MAX_NAME + " characters");
        } else if (InputBounds.textProblem(v) != null) {
            problems.add(where + ": " + InputBounds.textProblem(v));
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
        Instant t;
        try {
            t = value.length() == 10 ? LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : Instant.parse(value);
        } catch (DateTimeParseException e) {
            problems.add(where + ": '" + abbreviate(value) + "' is not a UTC date such as 2025-08-07 or an ISO-8601 instant");
            return null;
        }
        if (InputBounds.instantProblem(t) != null) {
            problems.add(where + ": " + value + " " + InputBounds.instantProblem(t));
            return null;
        }
        return t;
    }

    static BigDecimal usd(String value, String where, List<String> problems, boolean required) {
        if (value == null || value.isBlank()) {
            return absent(where, problems, required);
        }
        return checked(DecimalRule.PRICE.read(value), where, problems);
    }

    /** A price in JSON: a number or a decimal string; an empty string is no price, as an empty CSV cell. */
    static BigDecimal usd(JsonNode parent, String field, String where, List<String> problems, boolean required) {
        JsonNode v = parent.get(field);
        if (v == null || v.isNull() || v.isTextual() && v.asText().isBlank()) {
            return absent(where, problems, required);
        }
        return checked(DecimalRule.PRICE.read(v), where, problems);
    }

    private static BigDecimal absent(String where, List<String> problems, boolean required) {
        if (required) {
            problems.add(where + ": required");
        }
        return null;
    }

    /** The value read, also when refused: a refused price is still checked against its tiers. */
    static BigDecimal checked(DecimalRule.Parsed p, String where, List<String> problems) {
        if (!p.ok()) {
            problems.add(where + ": " + p.problem());
        }
        return p.value();
    }

    static String abbreviate(String v) {
        return DecimalRule.abbreviate(v);
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
        boolean cacheWrite = versions.stream().anyMatch(v -> v.cacheWritePer1mUsd() != null);
        boolean tiers = versions.stream().anyMatch(v -> !v.contextTiers().isEmpty());
        boolean serviceTiers = versions.stream().anyMatch(v -> !v.serviceTiers().isEmpty());
        List<String> header = new ArrayList<>(CSV_COLUMNS);
        if (unit) {
            header.add(UNIT_COLUMN);
        }
        // cache-write is also the column of the tiers' own cache-write price
        if (cacheWrite || tiers) {
            header.add(CACHE_WRITE_COLUMN);
        }
        if (tiers) {
            header.add(ABOVE_COLUMN);
        }
        if (serviceTiers) {
            header.add(SERVICE_TIERS_COLUMN);
        }
        StringBuilder sb = new StringBuilder(Csv.line(header));
        for (PriceVersion v : versions) {
            List<String> row = row(v, v.inputPer1mUsd(), v.cachedInputPer1mUsd(), v.outputPer1mUsd());
            if (unit) {
                row.add(money(v.unitUsd()));
            }
            if (cacheWrite || tiers) {
                row.add(money(v.cacheWritePer1mUsd()));
            }
            if (tiers) {
                row.add(null);
            }
            if (serviceTiers) {
                row.add(PriceTiers.serviceTiersCell(v.serviceTiers()));
            }
            sb.append(Csv.line(row));
            for (PriceVersion.ContextTier t : v.contextTiers()) {
                List<String> tier = row(v, t.inputPer1mUsd(), t.cachedInputPer1mUsd(), t.outputPer1mUsd());
                if (unit) {
                    tier.add(null);
                }
                tier.add(money(t.cacheWritePer1mUsd()));
                tier.add(Long.toString(t.aboveInputTokens()));
                if (serviceTiers) {
                    tier.add(null);
                }
                sb.append(Csv.line(tier));
            }
        }
        return sb.toString();
    }

    private static List<String> row(PriceVersion v, BigDecimal in, BigDecimal cached, BigDecimal out) {
        return new ArrayList<>(List.of(v.provider(), v.model(), money(in), money(cached), money(out),
                effectiveFrom(v.effectiveFrom())));
    }


    /** The JSON form of one version, as GET returns it and PUT reads it. */
    public static Map<String, Object> json(PriceVersion v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("provider", v.provider());
        m.put("model", v.model());
        m.put("effectiveFrom", v.effectiveFrom().toString());
        m.put("inputPer1mUsd", money(v.inputPer1mUsd()));
        m.put("cachedInputPer1mUsd", money(v.cachedInputPer1mUsd()));
        m.put("outputPer1mUsd", money(v.outputPer1mUsd()));
        m.put("unitUsd", money(v.unitUsd()));
        m.put("cacheWritePer1mUsd", money(v.cacheWritePer1mUsd()));
        m.put("contextTiers", PriceTiers.contextTiersJson(v.contextTiers()));
        m.put("serviceTiers", PriceTiers.serviceTiersJson(v.serviceTiers()));
        return m;
    }




}
