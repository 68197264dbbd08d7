package dev.metering.events;

import static dev.metering.events.UsageEventFixtures.T0;
import static dev.metering.events.UsageEventFixtures.anEvent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.UsageEvent;
import dev.metering.events.UsageEventValidator.Violation;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UsageEventValidatorTest {

    @Test
    void shouldAcceptValidEvent() {
        UsageEvent event = anEvent().model("openai", "gpt-5").tokens(1_000_000_000L, 1_000_000_000L)
                .cachedInputTokens(1_000_000_000L).quantity(1_000_000L).costNanos(0L).build();

        assertThat(UsageEventValidator.validate(event, T0)).isEmpty();
    }

    @Test
    void shouldReportEveryProblemAtOnce() {
        UsageEvent event = anEvent().eventId(" ").org("").feature("chat").quantity(-1).tokens(-2, 1_000_000_001L)
                .cachedInputTokens(-3).costNanos(-4L).at(T0.plus(Duration.ofMinutes(6))).build();

        assertThat(UsageEventValidator.validate(event, T0)).containsExactly(
                new Violation("eventId", "REQUIRED", "eventId must not be empty"),
                new Violation("orgId", "REQUIRED", "orgId must not be empty"),
                new Violation("occurredAt", "IN_FUTURE",
                        "occurredAt 2023-11-14T22:19:20Z is more than 5 minutes after now (2023-11-14T22:13:20Z)"),
                new Violation("feature", "INVALID_FORMAT", "feature 'chat' must match [A-Z][A-Z0-9_]{0,63}"),
                new Violation("quantity", "NEGATIVE", "quantity -1 must not be negative"),
                new Violation("inputTokens", "NEGATIVE", "inputTokens -2 must not be negative"),
                new Violation("outputTokens", "TOO_LARGE", "outputTokens 1000000001 exceeds 1000000000 per event"),
                new Violation("cachedInputTokens", "NEGATIVE", "cachedInputTokens -3 must not be negative"),
                new Violation("costNanos", "NEGATIVE", "costNanos -4 must not be negative"));
    }

    @Test
    void shouldReportMissingRequiredFields() {
        UsageEvent event = new UsageEvent();
        event.setQuantity(1);

        assertThat(UsageEventValidator.validate(event, T0)).extracting(v -> v.field() + " " + v.code()).containsExactly(
                "eventId REQUIRED", "orgId REQUIRED", "occurredAt REQUIRED", "feature REQUIRED");
    }

    @Test
    void shouldAcceptOccurredAtExactlyFiveMinutesAhead() {
        assertThat(UsageEventValidator.validate(anEvent().at(T0.plus(Duration.ofMinutes(5))).build(), T0)).isEmpty();
        assertThat(UsageEventValidator.validate(anEvent().at(T0.plus(Duration.ofMinutes(5)).plusMillis(1)).build(), T0))
                .extracting(Violation::code).containsExactly("IN_FUTURE");
    }

    @Test
    void shouldAcceptOldEvents() {
        assertThat(UsageEventValidator.validate(anEvent().at(T0.minus(Duration.ofDays(30))).build(), T0)).isEmpty();
    }

    @Test
    void shouldRefuseAbsurdQuantityAndCost() {
        UsageEvent event = anEvent().quantity(1_000_001L).costNanos(1_000_000_000_000_001L).build();

        assertThat(UsageEventValidator.validate(event, T0)).extracting(v -> v.field() + " " + v.code())
                .containsExactly("quantity TOO_LARGE", "costNanos TOO_LARGE");
    }

    @Test
    void shouldRefuseOverlongIds() {
        UsageEvent event = anEvent().org("o".repeat(257)).eventId("e".repeat(256)).build();

        assertThat(UsageEventValidator.validate(event, T0)).containsExactly(new Violation("orgId", "TOO_LONG",
                "orgId has 257 bytes in UTF-8, more than 256: '" + "o".repeat(64) + "...'"));
    }

    @Test
    void shouldAcceptEveryStringAtItsBoundInUtf8Bytes() {
        String twoByte = "é".repeat(128); // 256 bytes
        String fourByte = "\uD83D\uDE00".repeat(64); // 64 emoji, 256 bytes
        UsageEvent event = anEvent().eventId("e".repeat(256)).org(twoByte).user(fourByte).conversation("c".repeat(256))
                .model("p".repeat(256), "m".repeat(256)).source("s".repeat(256))
                .feature("F" + "_".repeat(63)).build();
        for (int i = 0; i < 32; i++) {
            event.getAttributes().put(String.format("%064d", i), "v".repeat(256));
        }

        assertThat(UsageEventValidator.validate(event, T0)).isEmpty();
    }

    @Test
    void shouldRefuseEveryStringDimensionOneByteOverItsBound() {
        UsageEvent event = anEvent().eventId("e".repeat(257)).org("é".repeat(128) + "o").user("u".repeat(257))
                .conversation("c".repeat(257)).model("p".repeat(257), "m".repeat(255) + "é").source("s".repeat(257))
                .attribute("k".repeat(65), "v").attribute("ok", "v".repeat(257)).build();

        assertThat(UsageEventValidator.validate(event, T0)).extracting(v -> v.field() + " " + v.code()).containsExactly(
                "eventId TOO_LONG", "orgId TOO_LONG", "userId TOO_LONG", "conversationId TOO_LONG", "provider TOO_LONG",
                "model TOO_LONG", "source TOO_LONG", "attributes TOO_LONG", "attributes.ok TOO_LONG");
    }

    @Test
    void shouldRefuseControlCharactersAndUnpairedSurrogatesInEveryString() {
        UsageEvent event = anEvent().eventId("e\u0000").org("acme\n").user("bob\u0000").conversation("c\u007f")
                .model("open\u0085ai", "gpt\uD800").source("s\t").attribute("k\u0001", "v").attribute("ok", "v\u0000")
                .build();

        assertThat(UsageEventValidator.validate(event, T0)).extracting(v -> v.field() + " " + v.code()).containsExactly(
                "eventId INVALID_CHARACTER", "orgId INVALID_CHARACTER", "userId INVALID_CHARACTER",
                "conversationId INVALID_CHARACTER", "provider INVALID_CHARACTER", "model INVALID_CHARACTER",
                "source INVALID_CHARACTER", "attributes INVALID_CHARACTER", "attributes.ok INVALID_CHARACTER");
        assertThat(UsageEventValidator.validate(event, T0).get(2)).isEqualTo(new Violation("userId", "INVALID_CHARACTER",
                "userId holds U+0000 (a control character) at index 3: 'bob\\u0000'"));
    }

    @Test
    void shouldRefuseTooManyAttributesWithOneViolation() {
        UsageEvent event = anEvent().build();
        for (int i = 0; i < 10_000; i++) {
            event.getAttributes().put("k" + i, "v");
        }

        assertThat(UsageEventValidator.validate(event, T0)).containsExactly(
                new Violation("attributes", "TOO_MANY", "attributes has 10000 entries, more than 32"));
    }

    @Test
    void shouldRefuseEmptyAttributeKeyAndQuoteAnOverlongFeatureShortly() {
        UsageEvent event = anEvent().feature("X".repeat(100_000)).attribute("", "v").build();

        assertThat(UsageEventValidator.validate(event, T0)).containsExactly(
                new Violation("feature", "INVALID_FORMAT", "feature '" + "X".repeat(64) + "...' must match "
                        + "[A-Z][A-Z0-9_]{0,63}"),
                new Violation("attributes", "REQUIRED", "attribute keys must not be empty"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"CHAT_MESSAGE", "A", "AI_COMPLETION", "X9", "A_123456789_123456789_123456789_123456789_123456789_123456789_12"})
    void shouldAcceptFeatureCodes(String feature) {
        assertThat(UsageEventValidator.validate(anEvent().feature(feature).build(), T0)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "_CHAT", "9CHAT", "CHAT-MESSAGE", "CHAT MESSAGE", "A_123456789_123456789_123456789_123456789_123456789_123456789_123"})
    void shouldRefuseFeatureCodes(String feature) {
        assertThat(UsageEventValidator.validate(anEvent().feature(feature).build(), T0))
                .extracting(Violation::code).containsExactly("INVALID_FORMAT");
    }

    @Test
    void shouldListAllViolationsInExceptionMessage() {
        UsageEvent event = anEvent().org("").quantity(-1).build();
        InvalidUsageEventException e = new InvalidUsageEventException(UsageEventValidator.validate(event, T0));

        assertThat(e.getMessage()).isEqualTo("invalid usage event: orgId REQUIRED: orgId must not be empty; "
                + "quantity NEGATIVE: quantity -1 must not be negative");
        assertThat(e.violations()).hasSize(2);
    }
    @Test
    void shouldAcceptPriceBookV2FieldsWithinBounds() {
        UsageEvent event = anEvent().model("anthropic", "claude-sonnet-4-5").tokens(10, 500).reasoningTokens(500)
                .cacheWriteTokens(1_000_000_000L).serviceTier("on_demand").build();

        assertThat(UsageEventValidator.validate(event, T0)).isEmpty();
    }

    @Test
    void shouldRefuseNegativeOrAbsurdCacheWriteAndReasoningTokens() {
        UsageEvent event = anEvent().tokens(0, 10).cacheWriteTokens(-1).reasoningTokens(-2).build();
        UsageEvent absurd = anEvent().tokens(0, 10).cacheWriteTokens(1_000_000_001L).build();

        assertThat(UsageEventValidator.validate(event, T0)).containsExactly(
                new Violation("cacheWriteTokens", "NEGATIVE", "cacheWriteTokens -1 must not be negative"),
                new Violation("reasoningTokens", "NEGATIVE", "reasoningTokens -2 must not be negative"));
        assertThat(UsageEventValidator.validate(absurd, T0)).containsExactly(
                new Violation("cacheWriteTokens", "TOO_LARGE", "cacheWriteTokens 1000000001 exceeds 1000000000 per event"));
    }

    @Test
    void shouldRefuseMoreReasoningTokensThanOutputTokens() {
        assertThat(UsageEventValidator.validate(anEvent().tokens(5, 100).reasoningTokens(100).build(), T0)).isEmpty();
        assertThat(UsageEventValidator.validate(anEvent().tokens(5, 100).reasoningTokens(101).build(), T0)).containsExactly(
                new Violation("reasoningTokens", "EXCEEDS_OUTPUT",
                        "reasoningTokens 101 exceed outputTokens 100 (reasoning tokens are a part of the output tokens)"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " batch", "batch\n", "b\u0000", "a/b"})
    void shouldRefuseMalformedServiceTier(String tier) {
        assertThat(UsageEventValidator.validate(anEvent().serviceTier(tier).build(), T0))
                .extracting(v -> v.field() + " " + v.code()).containsExactly("serviceTier INVALID_FORMAT");
    }

    @Test
    void shouldRefuseServiceTierLongerThan64Characters() {
        assertThat(UsageEventValidator.validate(anEvent().serviceTier("p".repeat(64)).build(), T0)).isEmpty();
        assertThat(UsageEventValidator.validate(anEvent().serviceTier("p".repeat(65)).build(), T0))
                .extracting(v -> v.field() + " " + v.code()).containsExactly("serviceTier INVALID_FORMAT");
    }
}
