package dev.metering.api.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import io.javalin.http.Context;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Set;

/** Parsing and validating request input; every refusal is a 400 naming the field. */
final class Requests {

    static final int MAX_ID_LENGTH = 256;
    private static final BigDecimal MAX_AMOUNT = new BigDecimal("1e15");

    private Requests() {
    }

    static String orgId(Context ctx) {
        String org = ctx.pathParam("orgId");
        if (org.isBlank() || org.length() > MAX_ID_LENGTH) {
            throw ApiException.badRequest("orgId", "must be 1-" + MAX_ID_LENGTH + " characters");
        }
        return org;
    }

    static long longParam(Context ctx, String name, long dflt, long max) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest(name, "'" + v + "' is not a whole number");
        }
        if (n < 0) {
            throw ApiException.badRequest(name, "must not be negative, got " + n);
        }
        if (n > max) {
            throw ApiException.badRequest(name, "must be at most " + max + ", got " + n);
        }
        return n;
    }

    static BigDecimal decimalParam(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return BigDecimal.ZERO;
        }
        return decimal(name, v, false);
    }

    static String optionalText(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.length() > MAX_ID_LENGTH) {
            throw ApiException.badRequest(name, "must be at most " + MAX_ID_LENGTH + " characters");
        }
        return v;
    }

    static BigDecimal decimal(String field, String v, boolean positive) {
        BigDecimal d;
        try {
            if (!v.trim().matches("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)")) {
                throw new NumberFormatException();
            }
            d = new BigDecimal(v.trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest(field, "'" + v + "' is not a decimal amount, e.g. \"10.00\"");
        }
        if (positive ? d.signum() <= 0 : d.signum() < 0) {
            throw ApiException.badRequest(field, positive ? "must be positive, got " + d.toPlainString()
                    : "must not be negative, got " + d.toPlainString());
        }
        if (d.stripTrailingZeros().scale() > 9 || d.compareTo(MAX_AMOUNT) >= 0) {
            throw ApiException.badRequest(field, d.toPlainString() + " is out of range (at most 9 decimals, below 1e15)");
        }
        return d;
    }

    static BigDecimal decimal(String field, JsonNode node, boolean positive) {
        if (node.isNumber()) {
            return decimal(field, node.decimalValue().toPlainString(), positive);
        }
        if (node.isTextual()) {
            return decimal(field, node.asText(), positive);
        }
        throw ApiException.badRequest(field, "expected a decimal string, e.g. \"10.00\"");
    }

    static JsonNode jsonObject(Context ctx, ObjectMapper mapper) {
        String body = ctx.body();
        if (body.isBlank()) {
            throw ApiException.badRequest("body", "a JSON object is required");
        }
        JsonNode node;
        try {
            node = mapper.readTree(body);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw ApiException.badRequest("body", "malformed JSON" + where + ": " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("body", "expected a JSON object");
        }
        return node;
    }

    static void onlyFields(JsonNode node, Set<String> known) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                throw ApiException.badRequest(f, "unknown field (expected " + known.stream().sorted().toList() + ")");
            }
        }
    }

    static String text(JsonNode node, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw ApiException.badRequest(field, "required");
            }
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw ApiException.badRequest(field, "expected a non-empty string");
        }
        return v.asText();
    }

    static Instant instant(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isIntegralNumber()) {
            return Instant.ofEpochMilli(v.longValue());
        }
        try {
            return Instant.parse(v.asText());
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(field, "'" + v.asText() + "' is not an ISO-8601 UTC instant such as "
                    + "2026-01-01T00:00:00Z");
        }
    }
}
