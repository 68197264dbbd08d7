package dev.metering.api.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.InputBounds;
import dev.metering.api.json.DecimalRule;
import dev.metering.api.json.JsonFields;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;

/** Parsing and validating request input; every refusal is a 400 naming the field. */
public final class Requests {

    public static final int MAX_ID_LENGTH = 256;
    private static final JsonFields.Problems FIRST_PROBLEM = (field, kind, message) -> {
        throw ApiException.badRequest(field, message);
    };

    private Requests() {
    }

    public static String orgId(Context ctx) {
        String org = ctx.pathParam("orgId");
        if (org.isBlank() || org.length() > MAX_ID_LENGTH) {
            throw ApiException.badRequest("orgId", "must be 1-" + MAX_ID_LENGTH + " characters");
        }
        return noNul("orgId", org);
    }

    /**
     * Refuses a request whose path or query is not valid percent-encoded UTF-8 or holds a NUL:
     * 400 naming {@code path} or the query parameter.
     */
    static void strictUri(Context ctx) {
        if (decodeProblem(ctx.req().getRequestURI(), false) != null) {
            throw ApiException.badRequest("path", decodeProblem(ctx.req().getRequestURI(), false));
        }
        String query = ctx.req().getQueryString();
        if (query == null) {
            return;
        }
        for (String part : query.split("&")) {
            int eq = part.indexOf('=');
            String name = eq < 0 ? part : part.substring(0, eq);
            String nameProblem = decodeProblem(name, true);
            if (nameProblem != null) {
                throw ApiException.badRequest("query", nameProblem);
            }
            String valueProblem = eq < 0 ? null : decodeProblem(part.substring(eq + 1), true);
            if (valueProblem != null) {
                throw ApiException.badRequest(java.net.URLDecoder.decode(name, StandardCharsets.UTF_8), valueProblem);
            }
        }
    }

    /** Null when {@code raw} percent-decodes to UTF-8 text without NUL; else why not. */
    static String decodeProblem(String raw, boolean query) {
        if (raw == null) {
            return null;
        }
        // raw bytes that were not UTF-8 reach us already replaced by U+FFFD
        if (raw.indexOf('\uFFFD') >= 0) {
            return "is not valid UTF-8";
        }
        if (raw.indexOf('%') < 0) {
            return raw.indexOf('\0') >= 0 ? "must not contain the NUL character" : null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = hi < 0 ? -1 : Character.digit(raw.charAt(i + 2), 16);
                if (lo < 0) {
                    return "malformed percent-encoding at character " + i;
                }
                bytes.write(hi * 16 + lo);
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
            }
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            return "is not valid UTF-8 once percent-decoded";
        }
        return text.indexOf('\0') >= 0 ? "must not contain the NUL character (%00)" : null;
    }

    public static long longParam(Context ctx, String name, long dflt, long max) {
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

    public static BigDecimal decimalParam(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return BigDecimal.ZERO;
        }
        return decimal(name, v, false);
    }

    public static String optionalText(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.length() > MAX_ID_LENGTH) {
            throw ApiException.badRequest(name, "must be at most " + MAX_ID_LENGTH + " characters");
        }
        return noNul(name, v);
    }

    /** {@code v}, refused with 400 naming the field when it holds a NUL (PostgreSQL text cannot). */
    static String noNul(String field, String v) {
        String problem = InputBounds.textProblem(v);
        if (problem != null) {
            throw ApiException.badRequest(field, problem);
        }
        return v;
    }

    static BigDecimal decimal(String field, String v, boolean positive) {
        return checked(field, rule(positive).read(v));
    }

    public static BigDecimal decimal(String field, JsonNode node, boolean positive) {
        return checked(field, rule(positive).read(node));
    }

    private static DecimalRule rule(boolean positive) {
        return positive ? DecimalRule.POSITIVE_AMOUNT : DecimalRule.AMOUNT;
    }

    private static BigDecimal checked(String field, DecimalRule.Parsed p) {
        if (!p.ok()) {
            throw ApiException.badRequest(field, p.problem());
        }
        return p.value();
    }

    public static JsonNode jsonObject(Context ctx, ObjectMapper mapper) {
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

    public static void onlyFields(JsonNode node, Set<String> known) {
        fields(node).onlyFields(known, () -> JsonFields.oneOf(known));
    }

    public static String text(JsonNode node, String field, boolean required) {
        return fields(node).text(field, required);
    }

    public static Instant instant(JsonNode node, String field) {
        return fields(node).instant(field, null);
    }

    /** The body's fields; the first problem is a 400 naming its field. */
    public static JsonFields fields(JsonNode node) {
        return new JsonFields(node, "", FIRST_PROBLEM);
    }

    /** {@code t}, refused with 400 naming the field outside years 0001-9999. */
    static Instant instant(String field, Instant t) {
        String problem = InputBounds.instantProblem(t);
        if (problem != null) {
            throw ApiException.badRequest(field, t + " " + problem);
        }
        return t;
    }
}
