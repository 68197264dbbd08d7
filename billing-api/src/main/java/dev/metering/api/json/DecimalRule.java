package dev.metering.api.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.api.InputBounds;
import java.math.BigDecimal;
import java.util.regex.Pattern;

/**
 * One kind of decimal the API reads (an amount, a price, a multiplier, a fraction) and the words
 * its refusals use. Every kind is read the same way: a JSON number (an exponent allowed) or a plain
 * decimal string (none, so {@code "1e3"} is refused), both within {@link InputBounds}; then the
 * kind's sign, upper bound and decimals, in that order.
 *
 * @param sign        which values below or at zero are refused
 * @param max         the upper bound
 * @param maxIncluded whether {@code max} itself is allowed
 * @param maxScale    decimals allowed once trailing zeros are dropped
 * @param words       refusal texts; {@code %s} is the value read, or the input when it is no decimal
 */
public record DecimalRule(Sign sign, BigDecimal max, boolean maxIncluded, int maxScale, Words words) {

    public enum Sign { NON_NEGATIVE, POSITIVE }

    /** Refusal texts of one kind; each has one {@code %s}. */
    public record Words(String notDecimal, String badSign, String tooLarge, String tooFine) {
    }

    /**
     * A value read, or why not ({@code type} tells a wrong form from a value out of range). A value
     * out of range is still given, so a caller collecting problems can check the rest against it.
     */
    public record Parsed(BigDecimal value, String problem, boolean type) {
        public boolean ok() {
            return problem == null;
        }
    }

    private static final Pattern PLAIN = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)");
    private static final String AMOUNT_RANGE = "%s is out of range (at most 9 decimals, below 1e15)";

    /** Money in USD as the API takes it ({@code numeric(24,9)}): not negative, nano-USD, below 10^15. */
    public static final DecimalRule AMOUNT = new DecimalRule(Sign.NON_NEGATIVE, new BigDecimal("1e15"), false, 9,
            new Words("'%s' is not a decimal amount, e.g. \"10.00\"", "must not be negative, got %s", AMOUNT_RANGE,
                    AMOUNT_RANGE));
    /** An amount that must be above zero (a credit grant). */
    public static final DecimalRule POSITIVE_AMOUNT = new DecimalRule(Sign.POSITIVE, AMOUNT.max, false, 9,
            new Words(AMOUNT.words.notDecimal, "must be positive, got %s", AMOUNT_RANGE, AMOUNT_RANGE));
    /** A price book price per 1M tokens or per unit: not negative, nano-USD, below 10^6 USD. */
    public static final DecimalRule PRICE = new DecimalRule(Sign.NON_NEGATIVE, new BigDecimal("1000000"), false, 9,
            new Words("'%s' is not a plain decimal number such as 1.25", "%s must not be negative",
                    "%s must be below 1000000", "%s is finer than 1 nano-USD (at most 9 decimals)"));
    /** A service tier's multiplier of a version's cost: above 0, at most 100, 6 decimals. */
    public static final DecimalRule MULTIPLIER = new DecimalRule(Sign.POSITIVE, new BigDecimal("100"), true, 6,
            new Words("'%s' is not a plain decimal number such as 0.5", "multiplier %s must be above 0",
                    "multiplier %s must be at most 100", "multiplier %s has more than 6 decimals"));
    /** An alert threshold as a fraction of its limit: above 0, at most 10, 4 decimals. */
    public static final DecimalRule FRACTION = new DecimalRule(Sign.POSITIVE, BigDecimal.TEN, true, 4,
            new Words("'%s' is not a fraction, e.g. 0.8", "must be above 0 and at most 10, got %s",
                    "must be above 0 and at most 10, got %s", "at most 4 decimals, got %s"));

    /** The same rule, refusing what is no decimal with {@code notDecimal} instead. */
    public DecimalRule describedAs(String notDecimal) {
        return new DecimalRule(sign, max, maxIncluded, maxScale,
                new Words(notDecimal, words.badSign, words.tooLarge, words.tooFine));
    }

    /** A JSON number or decimal string; any other JSON value is no decimal. */
    public Parsed read(JsonNode node) {
        if (node.isNumber()) {
            BigDecimal d;
            try {
                d = InputBounds.decimal(node);
            } catch (NumberFormatException e) {
                return new Parsed(null, e.getMessage(), false);
            }
            return check(d);
        }
        if (node.isTextual()) {
            return read(node.asText());
        }
        return new Parsed(null, String.format(words.notDecimal, abbreviate(node.toString())), true);
    }

    /** A plain decimal written as text (surrounding blanks ignored). */
    public Parsed read(String text) {
        String t = text.strip();
        if (t.length() > InputBounds.MAX_DECIMAL_TEXT || !PLAIN.matcher(t).matches()) {
            return new Parsed(null, String.format(words.notDecimal, abbreviate(text)), true);
        }
        BigDecimal d;
        try {
            d = InputBounds.decimal(t);
        } catch (NumberFormatException e) {
            return new Parsed(null, e.getMessage(), false);
        }
        return check(d);
    }

    private Parsed check(BigDecimal d) {
        String problem = null;
        if (sign == Sign.POSITIVE ? d.signum() <= 0 : d.signum() < 0) {
            problem = words.badSign;
        } else if (maxIncluded ? d.compareTo(max) > 0 : d.compareTo(max) >= 0) {
            problem = words.tooLarge;
        } else if (d.stripTrailingZeros().scale() > maxScale) {
            problem = words.tooFine;
        }
        return new Parsed(d, problem == null ? null : String.format(problem, d.toPlainString()), false);
    }

    /** Long input is quoted back only in part: an error message stays small. */
    public static String abbreviate(String v) {
        return v.length() <= 80 ? v : v.substring(0, 80) + "...";
    }
}
