package dev.metering.api.bulk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.InputBounds;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rows of a bulk import as text, before validation: CSV with a header (RFC 4180 quoting within
 * a line) or JSON lines (one object per line). Subscriptions: {@code
 * orgId,planId,status,periodStart,periodEnd,seats,enforcement} plus {@code override.<limitId>}
 * columns (JSON: {@code overrides: {limitId: max}}); credits: {@code orgId,amountUsd,reason,expiresAt,grantId}.
 * A malformed header or body is a 400 for the whole request; a malformed row is one invalid row.
 */
public final class ImportRows {

    public static final int MAX_ROWS = 100_000;
    static final String OVERRIDE_PREFIX = "override.";

    /** The columns of one kind of import; {@code overrides}: whether override.<limitId> columns are allowed. */
    public record Columns(Set<String> names, List<String> required, boolean overrides) {
    }

    public static final Columns SUBSCRIPTIONS = new Columns(Set.of("orgId", "planId", "status", "periodStart",
            "periodEnd", "seats", "enforcement"), List.of("orgId", "planId"), true);
    public static final Columns CREDITS = new Columns(Set.of("orgId", "amountUsd", "reason", "expiresAt", "grantId"),
            List.of("orgId", "amountUsd", "grantId"), false);

    /** One row: its line number (the header is line 1), its cells by column, its overrides by limit id. */
    public record Row(int line, Map<String, String> values, Map<String, String> overrides, String problemField,
                      String problem) {

        static Row invalid(int line, String field, String message) {
            return new Row(line, Map.of(), Map.of(), field, message);
        }
    }

    /** An invalid row of an import: its line, the field at fault and why. */
    public record Problem(int line, String field, String message) {
    }

    private ImportRows() {
    }

    public static List<Row> csv(String body, Columns spec) {
        String[] lines = stripBom(body).split("\n", -1);
        int headerIndex = 0;
        while (headerIndex < lines.length && lines[headerIndex].strip().isEmpty()) {
            headerIndex++;
        }
        if (headerIndex == lines.length) {
            throw ApiException.badRequest("body", "empty: expected a header line orgId,planId,... and one row per subscription");
        }
        List<String> headerCells = cells(trimCr(lines[headerIndex]));
        if (headerCells == null) {
            throw ApiException.badRequest("header", "unterminated quote in the header");
        }
        List<String> header = headerCells.stream().map(String::strip).toList();
        Set<String> seen = new java.util.HashSet<>();
        for (String column : header) {
            boolean override = spec.overrides() && column.startsWith(OVERRIDE_PREFIX)
                    && column.length() > OVERRIDE_PREFIX.length();
            if (!spec.names().contains(column) && !override) {
                throw ApiException.badRequest(column, "unknown column (expected " + spec.names().stream().sorted().toList()
                        + (spec.overrides() ? " and override.<limitId> columns)" : ")"));
            }
            if (!seen.add(column)) {
                throw ApiException.badRequest(column, "column appears twice in the header");
            }
        }
        for (String required : spec.required()) {
            if (!seen.contains(required)) {
                throw ApiException.badRequest(required, "the header has no " + required + " column");
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int i = headerIndex + 1; i < lines.length; i++) {
            String text = trimCr(lines[i]);
            if (text.isBlank()) {
                continue;
            }
            tooMany(rows);
            int line = i + 1;
            List<String> cells = cells(text);
            if (cells == null) {
                rows.add(Row.invalid(line, "row", "unterminated quote (a cell cannot span lines)"));
                continue;
            }
            if (cells.size() != header.size()) {
                rows.add(Row.invalid(line, "row", "expected " + header.size() + " cells as in the header, got " + cells.size()));
                continue;
            }
            Map<String, String> values = new LinkedHashMap<>();
            Map<String, String> overrides = new LinkedHashMap<>();
            Row invalid = null;
            for (int c = 0; c < header.size(); c++) {
                String v = cells.get(c).strip();
                if (v.isEmpty()) {
                    continue;
                }
                String column = header.get(c);
                if (InputBounds.textProblem(v) != null) {
                    invalid = Row.invalid(line, column, InputBounds.textProblem(v));
                    break;
                }
                if (!spec.names().contains(column)) {
                    overrides.put(column.substring(OVERRIDE_PREFIX.length()), v);
                } else {
                    values.put(column, v);
                }
            }
            rows.add(invalid != null ? invalid : new Row(line, values, overrides, null, null));
        }
        return rows;
    }

    public static List<Row> jsonLines(String body, Columns spec, ObjectMapper mapper) {
        String[] lines = stripBom(body).split("\n", -1);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String text = trimCr(lines[i]);
            if (text.isBlank()) {
                continue;
            }
            tooMany(rows);
            rows.add(jsonRow(i + 1, text, spec, mapper));
        }
        if (rows.isEmpty()) {
            throw ApiException.badRequest("body", "empty: expected one JSON object per line");
        }
        return rows;
    }

    private static Row jsonRow(int line, String text, Columns spec, ObjectMapper mapper) {
        JsonNode node;
        try {
            node = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            return Row.invalid(line, "row", "malformed JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            return Row.invalid(line, "row", "expected a JSON object");
        }
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> overrides = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (spec.overrides() && f.getKey().equals("overrides")) {
                if (v.isNull()) {
                    continue;
                }
                if (!v.isObject()) {
                    return Row.invalid(line, "overrides", "expected an object {limitId: max}");
                }
                for (Iterator<Map.Entry<String, JsonNode>> o = v.fields(); o.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = o.next();
                    if (!e.getValue().isValueNode() || e.getValue().isNull() || e.getValue().isBoolean()) {
                        return Row.invalid(line, "overrides." + e.getKey(), "expected a decimal string, e.g. \"10.00\"");
                    }
                    overrides.put(e.getKey(), e.getValue().isNumber() ? plain(e.getValue()) : e.getValue().asText());
                }
                continue;
            }
            if (!spec.names().contains(f.getKey())) {
                return Row.invalid(line, f.getKey(), "unknown field (expected " + spec.names().stream().sorted().toList()
                        + (spec.overrides() ? " and overrides)" : ")"));
            }
            if (v.isNull()) {
                continue;
            }
            if (!v.isValueNode() || v.isBoolean()) {
                return Row.invalid(line, f.getKey(), "expected a string or a number");
            }
            if (InputBounds.textProblem(v.asText()) != null) {
                return Row.invalid(line, f.getKey(), InputBounds.textProblem(v.asText()));
            }
            values.put(f.getKey(), v.asText());
        }
        return new Row(line, values, overrides, null, null);
    }

    /** A JSON number as plain text when in range; else as written (then refused as not a plain decimal). */
    private static String plain(JsonNode n) {
        try {
            return InputBounds.decimal(n).toPlainString();
        } catch (NumberFormatException e) {
            return n.toString();
        }
    }

    private static void tooMany(List<Row> rows) {
        if (rows.size() >= MAX_ROWS) {
            throw new ApiException(413, "PAYLOAD_TOO_LARGE", "body", "at most " + MAX_ROWS + " rows per import; split the file");
        }
    }

    /** The cells of one CSV line; null when a quote is not closed. */
    static List<String> cells(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    cell.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(ch);
            }
        }
        if (quoted) {
            return null;
        }
        cells.add(cell.toString());
        return cells;
    }

    private static String stripBom(String s) {
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }

    private static String trimCr(String s) {
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
