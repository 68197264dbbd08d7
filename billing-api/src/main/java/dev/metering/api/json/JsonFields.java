package dev.metering.api.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.InputBounds;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The fields of one JSON (or YAML) object, read by the API's one set of rules (docs/contract.md,
 * Bounded input). Each problem goes to the caller's {@link Problems} with the field's path: a
 * request handler throws on the first, a catalog or price book collects them all.
 *
 * <p>Absent and {@code null} fields are the same: the default, or {@code required}. On a problem a
 * reader answers the default (or null), so a collecting caller reads on.
 */
public final class JsonFields {

    /** What is wrong: a field missing, one not expected, a value of the wrong form, or one out of range. */
    public enum Kind { REQUIRED, UNKNOWN, TYPE, RANGE }

    /** Where each problem goes, with its path, e.g. {@code plans[0].limits[1].max}. */
    @FunctionalInterface
    public interface Problems {
        void add(String path, Kind kind, String message);
    }

    private static final String INSTANT = "must be epoch milliseconds or an ISO-8601 instant such as "
            + "2026-11-22T18:30:00Z, got ";

    private final JsonNode object;
    private final String prefix;
    private final Problems problems;

    /** The fields of {@code object}, each path {@code prefix + name} (e.g. {@code "plans[0]."}). */
    public JsonFields(JsonNode object, String prefix, Problems problems) {
        this.object = object;
        this.prefix = prefix;
        this.problems = problems;
    }

    /** Problems as {@code "path: message"} lines in {@code out}. */
    public static Problems collectInto(List<String> out) {
        return (path, kind, message) -> out.add(path + ": " + message);
    }

    public String path(String field) {
        return prefix + field;
    }

    /** The field's node, or null when absent or {@code null}. */
    public JsonNode get(String field) {
        JsonNode v = object.get(field);
        return v == null || v.isNull() ? null : v;
    }

    /** Reports each field not in {@code known}: "unknown field" and {@code hint}. */
    public void onlyFields(Set<String> known, String hint) {
        onlyFields(known, () -> hint);
    }

    /** As {@link #onlyFields(Set, String)}; the hint is built only when a field is unknown. */
    public void onlyFields(Set<String> known, java.util.function.Supplier<String> hint) {
        String built = null;
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                if (built == null) {
                    built = hint.get();
                }
                problems.add(path(f), Kind.UNKNOWN, "unknown field" + built);
            }
        }
    }

    /** The hint naming every known field, sorted. */
    public static String oneOf(Set<String> known) {
        return " (expected one of " + known.stream().sorted().toList() + ")";
    }

    /** A JSON string as given, or null when absent; only its type is checked. */
    public String string(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            problems.add(path(field), Kind.TYPE, "must be a string");
            return null;
        }
        return v.asText();
    }

    /** Non-blank text without NUL (PostgreSQL text cannot hold one), or null when absent. */
    public String text(String field, boolean required) {
        return text(field, required, false);
    }

    /** {@link #text}, where a number also counts as its text: YAML reads an unquoted {@code id: 2024} as one. */
    public String scalarText(String field, boolean required) {
        return text(field, required, true);
    }

    private String text(String field, boolean required, boolean numbersAsText) {
        JsonNode v = get(field);
        if (v == null) {
            if (required) {
                problems.add(path(field), Kind.REQUIRED, "required");
            }
            return null;
        }
        if (!v.isTextual() && !(numbersAsText && v.isNumber()) || v.asText().isBlank()) {
            problems.add(path(field), Kind.TYPE, "expected a non-empty string");
            return null;
        }
        String nul = InputBounds.textProblem(v.asText());
        if (nul != null) {
            problems.add(path(field), Kind.RANGE, nul);
            return null;
        }
        return v.asText();
    }

    /** A decimal of {@code rule}'s kind, or {@code dflt} when absent or refused. */
    public BigDecimal decimal(String field, DecimalRule rule, BigDecimal dflt) {
        JsonNode v = get(field);
        return v == null ? dflt : decimal(v, path(field), rule, dflt);
    }

    /** {@code node} (any element, e.g. of a list) as a decimal of {@code rule}'s kind, or {@code dflt} when refused. */
    public BigDecimal decimal(JsonNode node, String path, DecimalRule rule, BigDecimal dflt) {
        DecimalRule.Parsed p = rule.read(node);
        if (!p.ok()) {
            problems.add(path, p.type() ? Kind.TYPE : Kind.RANGE, p.problem());
            return dflt;
        }
        return p.value();
    }

    /** A JSON whole number that fits a {@code long} (never truncated), or {@code dflt} when absent or refused. */
    public Long wholeNumber(String field, Long dflt) {
        JsonNode v = get(field);
        if (v == null) {
            return dflt;
        }
        String problem = InputBounds.longProblem(v);
        if (problem != null) {
            problems.add(path(field), Kind.TYPE, problem + ", got " + DecimalRule.abbreviate(v.toString()));
            return dflt;
        }
        return v.longValue();
    }

    /** Epoch milliseconds or an ISO-8601 instant within years 0001-9999 UTC, or {@code dflt} when absent or refused. */
    public Instant instant(String field, Instant dflt) {
        JsonNode v = get(field);
        if (v == null) {
            return dflt;
        }
        Instant t = null;
        if (v.isNumber()) {
            if (InputBounds.longProblem(v) == null) {
                t = InputBounds.epochMillis(v.longValue());
                if (t == null) {
                    problems.add(path(field), Kind.RANGE, InputBounds.instantProblem(Instant.MAX) + ", got " + v);
                    return dflt;
                }
            }
        } else if (v.isTextual()) {
            try {
                t = Instant.parse(v.asText());
            } catch (DateTimeParseException e) {
                // refused below
            }
        }
        if (t == null) {
            problems.add(path(field), Kind.TYPE, INSTANT + DecimalRule.abbreviate(v.toString()));
            return dflt;
        }
        String range = InputBounds.instantProblem(t);
        if (range != null) {
            problems.add(path(field), Kind.RANGE, range + ", got " + DecimalRule.abbreviate(v.toString()));
            return dflt;
        }
        return t;
    }

    /** {@code true} or {@code false}, or {@code dflt} when absent or refused. */
    public boolean bool(String field, boolean dflt) {
        JsonNode v = get(field);
        if (v == null) {
            return dflt;
        }
        if (!v.isBoolean()) {
            problems.add(path(field), Kind.TYPE, "expected true or false, got '" + v.asText() + "'");
            return dflt;
        }
        return v.booleanValue();
    }
}
