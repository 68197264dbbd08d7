package dev.metering.events;

import dev.metering.avro.UsageEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The rules a {@link UsageEvent} must satisfy (docs/contract.md, UsageEvent): the one implementation shared by
 * {@link UsageMeter} (before sending), the streams app (invalid events go to the dead-letter
 * topic as {@code INVALID}) and the HTTP ingest (per-index errors).
 *
 * <p>Rules, each reported as a {@link Violation} with the field name and a code:
 * <ul>
 *   <li>{@code eventId}, {@code orgId}: not null, not blank ({@link #REQUIRED});</li>
 *   <li>every string ({@code eventId}, {@code orgId}, {@code userId}, {@code conversationId},
 *       {@code provider}, {@code model}, {@code source}): at most {@value #MAX_STRING_BYTES} bytes in
 *       UTF-8 ({@link #TOO_LONG}), no control character (U+0000-U+001F, U+007F-U+009F) and no
 *       unpaired surrogate ({@link #INVALID_CHARACTER});</li>
 *   <li>{@code attributes}: at most {@value #MAX_ATTRIBUTES} entries ({@link #TOO_MANY}); keys
 *       1-{@value #MAX_ATTRIBUTE_KEY_BYTES} bytes, values at most {@value #MAX_ATTRIBUTE_VALUE_BYTES}
 *       bytes, neither with control characters (field {@code attributes.<key>}, or
 *       {@code attributes} for a key that is itself refused);</li>
 *   <li>{@code feature}: matches {@code [A-Z][A-Z0-9_]{0,63}} ({@link #REQUIRED} when absent,
 *       else {@link #INVALID_FORMAT});</li>
 *   <li>{@code quantity}, {@code inputTokens}, {@code outputTokens}, {@code cachedInputTokens},
 *       {@code costNanos}: not negative ({@link #NEGATIVE});</li>
 *   <li>absurd values ({@link #TOO_LARGE}): any token count above {@value #MAX_TOKENS}
 *       (10^9) per event; {@code quantity} above {@value #MAX_QUANTITY} (10^6 units of a feature
 *       in one event: a million messages, files or runs at once is a producer bug, and the bound
 *       keeps window sums far from overflow); {@code costNanos} above {@value #MAX_COST_NANOS}
 *       (USD 1,000,000 in one event);</li>
 *   <li>{@code occurredAt}: present ({@link #REQUIRED}) and at most {@link #MAX_CLOCK_SKEW}
 *       (5 minutes) after {@code now} ({@link #IN_FUTURE}).</li>
 * </ul>
 * Every problem is reported, not just the first; a message quotes at most the first
 * {@value #QUOTE_CHARS} characters of an offending value, with control characters escaped.
 *
 * <p>Why these bounds: the detail tables' primary key (org, window start, user, feature, provider,
 * model) is a PostgreSQL btree index whose rows may not exceed 2704 bytes; with every dimension at
 * most {@value #MAX_STRING_BYTES} bytes and the feature at most 64, a key is at most about 1.1 KB,
 * so an event the stream counts can always be written. PostgreSQL text cannot hold U+0000. The
 * attribute bounds cap one event's attributes at about 10 KB. Stateless and thread-safe.
 */
public final class UsageEventValidator {

    /** A required field is missing or blank. */
    public static final String REQUIRED = "REQUIRED";
    /** A field does not have the required format. */
    public static final String INVALID_FORMAT = "INVALID_FORMAT";
    /** A count or cost is negative. */
    public static final String NEGATIVE = "NEGATIVE";
    /** A count or cost is absurdly large for one event. */
    public static final String TOO_LARGE = "TOO_LARGE";
    /** A string is longer than its bound, in UTF-8 bytes. */
    public static final String TOO_LONG = "TOO_LONG";
    /** A string holds a control character or an unpaired surrogate. */
    public static final String INVALID_CHARACTER = "INVALID_CHARACTER";
    /** {@code attributes} has more than {@link #MAX_ATTRIBUTES} entries. */
    public static final String TOO_MANY = "TOO_MANY";
    /** {@code occurredAt} is more than {@link #MAX_CLOCK_SKEW} in the future. */
    public static final String IN_FUTURE = "IN_FUTURE";

    /** The feature code format. */
    public static final Pattern FEATURE = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
    /** The largest token count (each of input, output, cached input) one event may carry. */
    public static final long MAX_TOKENS = 1_000_000_000L;
    /** The largest quantity one event may carry. */
    public static final long MAX_QUANTITY = 1_000_000L;
    /** The largest producer-supplied cost of one event, in nano-USD (USD 1,000,000). */
    public static final long MAX_COST_NANOS = 1_000_000_000_000_000L;
    /** The longest id or dimension ({@code eventId}, {@code orgId}, {@code userId}, ...), in UTF-8 bytes. */
    public static final int MAX_STRING_BYTES = 256;
    /** The most {@code attributes} entries of one event. */
    public static final int MAX_ATTRIBUTES = 32;
    /** The longest attribute key, in UTF-8 bytes. */
    public static final int MAX_ATTRIBUTE_KEY_BYTES = 64;
    /** The longest attribute value, in UTF-8 bytes. */
    public static final int MAX_ATTRIBUTE_VALUE_BYTES = 256;
    /** How much of an offending value a message quotes. */
    static final int QUOTE_CHARS = 64;
    /** How far in the future {@code occurredAt} may be, for producers' clock skew. */
    public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
    /** {@code reasoningTokens} exceed {@code outputTokens}, of which they are a part. */
    public static final String EXCEEDS_OUTPUT = "EXCEEDS_OUTPUT";
    /** The longest {@code serviceTier}. */
    public static final int MAX_SERVICE_TIER_LENGTH = 64;
    /** A service tier name as providers spell them ({@code batch}, {@code flex}, {@code on_demand}, ...). */
    public static final Pattern SERVICE_TIER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0," + (MAX_SERVICE_TIER_LENGTH - 1) + "}");

    /**
     * One broken rule.
     *
     * @param field   the {@link UsageEvent} field name, e.g. {@code feature}
     * @param code    one of this class's codes, e.g. {@link #INVALID_FORMAT}
     * @param message a human-readable explanation including the offending value
     */
    public record Violation(String field, String code, String message) {

        public Violation {
            Objects.requireNonNull(field, "field");
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(message, "message");
        }

        @Override
        public String toString() {
            return field + " " + code + ": " + message;
        }
    }

    private UsageEventValidator() {
    }

    /**
     * Every rule {@code event} breaks, in field order; empty when it is valid.
     *
     * @param event the event
     * @param now   the current time (from the caller's injected clock), for the future check
     */
    public static List<Violation> validate(UsageEvent event, Instant now) {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(now, "now");
        List<Violation> violations = new ArrayList<>();
        id(violations, "eventId", event.getEventId());
        id(violations, "orgId", event.getOrgId());
        if (event.getOccurredAt() == null) {
            violations.add(new Violation("occurredAt", REQUIRED, "occurredAt is required"));
        } else if (event.getOccurredAt().isAfter(now.plus(MAX_CLOCK_SKEW))) {
            violations.add(new Violation("occurredAt", IN_FUTURE, "occurredAt " + event.getOccurredAt()
                    + " is more than " + MAX_CLOCK_SKEW.toMinutes() + " minutes after now (" + now + ")"));
        }
        String feature = event.getFeature();
        if (feature == null || feature.isBlank()) {
            violations.add(new Violation("feature", REQUIRED, "feature is required"));
        } else if (feature.length() > 64 || !FEATURE.matcher(feature).matches()) {
            violations.add(new Violation("feature", INVALID_FORMAT,
                    "feature '" + quote(feature) + "' must match " + FEATURE.pattern()));
        }
        text(violations, "userId", event.getUserId(), MAX_STRING_BYTES);
        text(violations, "conversationId", event.getConversationId(), MAX_STRING_BYTES);
        text(violations, "provider", event.getProvider(), MAX_STRING_BYTES);
        text(violations, "model", event.getModel(), MAX_STRING_BYTES);
        text(violations, "source", event.getSource(), MAX_STRING_BYTES);
        amount(violations, "quantity", event.getQuantity(), MAX_QUANTITY);
        amount(violations, "inputTokens", event.getInputTokens(), MAX_TOKENS);
        amount(violations, "outputTokens", event.getOutputTokens(), MAX_TOKENS);
        amount(violations, "cachedInputTokens", event.getCachedInputTokens(), MAX_TOKENS);
        if (event.getCostNanos() != null) {
            amount(violations, "costNanos", event.getCostNanos(), MAX_COST_NANOS);
        }
        attributes(violations, event.getAttributes());
        priceBookV2(violations, event);
        return List.copyOf(violations);
    }

    private static void id(List<Violation> violations, String field, String value) {
        if (value == null || value.isBlank()) {
            violations.add(new Violation(field, REQUIRED, field + " must not be empty"));
        } else {
            text(violations, field, value, MAX_STRING_BYTES);
        }
    }

    private static void attributes(List<Violation> violations, Map<? extends CharSequence, ? extends CharSequence> attributes) {
        if (attributes == null) {
            return;
        }
        if (attributes.size() > MAX_ATTRIBUTES) {
            violations.add(new Violation("attributes", TOO_MANY, "attributes has " + attributes.size()
                    + " entries, more than " + MAX_ATTRIBUTES));
            return; // one violation, not thousands
        }
        for (Map.Entry<? extends CharSequence, ? extends CharSequence> a : attributes.entrySet()) {
            String key = a.getKey() == null ? null : a.getKey().toString();
            if (key == null || key.isEmpty()) {
                violations.add(new Violation("attributes", REQUIRED, "attribute keys must not be empty"));
                continue;
            }
            int before = violations.size();
            text(violations, "attributes", key, MAX_ATTRIBUTE_KEY_BYTES);
            if (violations.size() > before) {
                continue; // the key itself is refused: do not name a field after it
            }
            String value = a.getValue() == null ? null : a.getValue().toString();
            text(violations, "attributes." + key, value, MAX_ATTRIBUTE_VALUE_BYTES);
        }
    }

    /** Checks a nullable string: UTF-8 length and characters. */
    private static void text(List<Violation> violations, String field, String value, int maxBytes) {
        if (value == null) {
            return;
        }
        long bytes = 0;
        int badAt = -1;
        int n = value.length();
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1))) {
                bytes += 4;
                i++;
                continue;
            } else {
                bytes += 3;
            }
            if (badAt < 0 && (Character.isISOControl(c) || Character.isSurrogate(c))) {
                badAt = i;
            }
        }
        if (bytes > maxBytes) {
            violations.add(new Violation(field, TOO_LONG, field + " has " + bytes + " bytes in UTF-8, more than "
                    + maxBytes + ": '" + quote(value) + "'"));
        }
        if (badAt >= 0) {
            char c = value.charAt(badAt);
            violations.add(new Violation(field, INVALID_CHARACTER, field + " holds " + String.format("U+%04X", (int) c)
                    + (Character.isSurrogate(c) ? " (an unpaired surrogate)" : " (a control character)")
                    + " at index " + badAt + ": '" + quote(value) + "'"));
        }
    }

    /** The first {@link #QUOTE_CHARS} characters of {@code value}, control characters escaped. */
    static String quote(String value) {
        StringBuilder out = new StringBuilder();
        int n = Math.min(value.length(), QUOTE_CHARS);
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c) || Character.isSurrogate(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (value.length() > n) {
            out.append("...");
        }
        return out.toString();
    }

    /**
     * The fields of price book v2: {@code cacheWriteTokens} and {@code reasoningTokens} not negative
     * and at most {@value #MAX_TOKENS}; {@code reasoningTokens <= outputTokens} ({@link #EXCEEDS_OUTPUT});
     * {@code serviceTier} absent or matching {@link #SERVICE_TIER} ({@link #INVALID_FORMAT}).
     */
    private static void priceBookV2(List<Violation> violations, UsageEvent event) {
        amount(violations, "cacheWriteTokens", event.getCacheWriteTokens(), MAX_TOKENS);
        amount(violations, "reasoningTokens", event.getReasoningTokens(), MAX_TOKENS);
        if (event.getReasoningTokens() > event.getOutputTokens() && event.getReasoningTokens() >= 0
                && event.getOutputTokens() >= 0) {
            violations.add(new Violation("reasoningTokens", EXCEEDS_OUTPUT, "reasoningTokens "
                    + event.getReasoningTokens() + " exceed outputTokens " + event.getOutputTokens()
                    + " (reasoning tokens are a part of the output tokens)"));
        }
        String tier = event.getServiceTier();
        if (tier != null && !SERVICE_TIER.matcher(tier).matches()) {
            violations.add(new Violation("serviceTier", INVALID_FORMAT, "serviceTier '"
                    + (tier.length() > MAX_SERVICE_TIER_LENGTH ? tier.substring(0, MAX_SERVICE_TIER_LENGTH) + "..." : tier)
                    .replaceAll("\\p{Cntrl}", "?") + "' must match " + SERVICE_TIER.pattern()));
        }
    }

    private static void amount(List<Violation> violations, String field, long value, long max) {
        if (value < 0) {
            violations.add(new Violation(field, NEGATIVE, field + " " + value + " must not be negative"));
        } else if (value > max) {
            violations.add(new Violation(field, TOO_LARGE, field + " " + value + " exceeds " + max + " per event"));
        }
    }
}
