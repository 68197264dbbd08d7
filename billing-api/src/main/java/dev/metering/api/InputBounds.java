package dev.metering.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;

/**
 * The ranges every outside number, instant and string must be in before any arithmetic or any
 * database call (docs/contract.md, Bounded input). Each method answers the problem as text, or
 * null when the value is in range, so that each parser reports it in its own error format.
 */
public final class InputBounds {

    /** Digits a decimal may carry in all; {@code numeric(24,9)} needs 24, a check's cost a few more. */
    public static final int MAX_PRECISION = 38;
    /** Decimal places, and powers of ten, a decimal may have in its written form ({@code 1e18}, {@code 1e-18}). */
    public static final int MAX_SCALE = 18;
    /** Longest decimal text parsed at all: 38 digits, a sign, a point and an exponent. */
    public static final int MAX_DECIMAL_TEXT = 64;
    /** Instants PostgreSQL stores and ISO-8601 writes without a sign: years 0001 to 9999 (UTC). */
    public static final Instant MIN_INSTANT = Instant.parse("0001-01-01T00:00:00Z");
    public static final Instant MAX_INSTANT = Instant.parse("9999-12-31T23:59:59.999999999Z");

    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private InputBounds() {
    }

    /** Null when {@code d} has at most 38 digits and at most 18 decimals or powers of ten; else why not. */
    public static String decimalProblem(BigDecimal d) {
        // precision and scale are fields of the value: no arithmetic on an exponent like 1e2147483647
        if (d.scale() > MAX_SCALE || d.scale() < -MAX_SCALE || d.precision() > MAX_PRECISION) {
            return "is out of range (at most " + MAX_PRECISION + " digits and " + MAX_SCALE
                    + " decimals; exponents up to e" + MAX_SCALE + ")";
        }
        return null;
    }

    /**
     * A decimal from text within {@link #decimalProblem}'s bounds, exponents allowed; throws
     * {@link NumberFormatException} with the reason (not a number, or out of range).
     */
    public static BigDecimal decimal(String text) {
        String t = text.strip();
        if (t.length() > MAX_DECIMAL_TEXT) {
            throw new NumberFormatException("is out of range (longer than " + MAX_DECIMAL_TEXT + " characters)");
        }
        BigDecimal d;
        try {
            d = new BigDecimal(t);
        } catch (NumberFormatException e) {
            throw new NumberFormatException("is not a decimal number");
        }
        String problem = decimalProblem(d);
        if (problem != null) {
            throw new NumberFormatException(problem);
        }
        return d;
    }

    /** A JSON number as an exact decimal within bounds (see {@link #decimal(String)}); null if not a number. */
    public static BigDecimal decimal(JsonNode node) {
        if (node == null || !node.isNumber()) {
            return null;
        }
        BigDecimal d;
        if (node.isBigInteger()) {
            if (node.bigIntegerValue().bitLength() > 127) {
                throw new NumberFormatException("is out of range (at most " + MAX_PRECISION + " digits)");
            }
            d = new BigDecimal(node.bigIntegerValue());
        } else if (node.isIntegralNumber()) {
            d = BigDecimal.valueOf(node.longValue());
        } else if (node.isBigDecimal()) {
            d = node.decimalValue();
        } else {
            double v = node.doubleValue();
            if (!Double.isFinite(v)) {
                throw new NumberFormatException("is out of range (not a finite number)");
            }
            d = new BigDecimal(Double.toString(v));
        }
        String problem = decimalProblem(d);
        if (problem != null) {
            throw new NumberFormatException(problem);
        }
        return d;
    }

    /** Null when the JSON node is a whole number that fits a {@code long} exactly; else why not. */
    public static String longProblem(JsonNode node) {
        if (node == null || !node.isIntegralNumber()) {
            return "must be a whole number";
        }
        if (node.isBigInteger()) {
            BigInteger v = node.bigIntegerValue();
            if (v.compareTo(LONG_MIN) < 0 || v.compareTo(LONG_MAX) > 0) {
                return "is out of range (beyond a 64-bit whole number)";
            }
        }
        return null;
    }

    /** Null when {@code t} is within years 0001-9999 UTC; else why not. */
    public static String instantProblem(Instant t) {
        if (t.isBefore(MIN_INSTANT) || t.isAfter(MAX_INSTANT)) {
            return "is out of range (years 0001 to 9999 UTC)";
        }
        return null;
    }

    /** An instant from epoch milliseconds, or null when out of range. */
    public static Instant epochMillis(long millis) {
        if (millis < MIN_INSTANT.toEpochMilli() || millis > MAX_INSTANT.toEpochMilli()) {
            return null;
        }
        return Instant.ofEpochMilli(millis);
    }

    /** Null when {@code s} has no NUL character (PostgreSQL text cannot hold one); else why not. */
    public static String textProblem(String s) {
        return s != null && s.indexOf('\0') >= 0 ? "must not contain the NUL character" : null;
    }
}
