package dev.metering.api.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.metering.api.plan.CatalogParser.Format;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class CatalogParserTest {

    private static List<String> problems(String yaml) {
        return catchThrowableOfType(CatalogValidationException.class,
                () -> CatalogParser.parse(yaml, Format.YAML)).problems();
    }

    @Test
    void shouldParseTheDesignExampleWithDefaults() {
        PlanCatalog catalog = CatalogParser.parse("""
                defaultPlan: trial
                plans:
                  - id: trial
                    name: Trial
                    priceUsd: "0"
                    features: [CHAT_MESSAGE, AI_COMPLETION]
                    prepaid: false
                    minBalanceUsd: "0.01"
                    welcomeCreditUsd: "0"
                    limits:
                      - id: daily-messages
                        feature: CHAT_MESSAGE
                        meter: quantity
                        window: day
                        scope: org
                        max: 200
                        perSeat: false
                        enforcement: hard
                        code: DAILY_MESSAGE_LIMIT_EXCEEDED
                      - id: tokens-5h
                        meter: tokens
                        window: rolling:5h
                        max: 50000
                """, Format.YAML);
        Plan trial = catalog.defaultPlan();
        assertThat(trial.id()).isEqualTo("trial");
        assertThat(trial.allowsFeature("FILE_UPLOAD")).isFalse();
        assertThat(trial.limits()).hasSize(2);
        PlanLimit tokens = trial.limits().get(1);
        assertThat(tokens.window()).isEqualTo(new TimeWindow(TimeWindow.Kind.ROLLING_HOURS, 5));
        assertThat(tokens.scope()).isEqualTo(LimitScope.ORG);
        assertThat(tokens.enforcement()).isEqualTo(Enforcement.HARD);
        assertThat(tokens.code()).isEqualTo("HOURLY_TOKEN_LIMIT_EXCEEDED");
        assertThat(tokens.max()).isEqualByComparingTo("50000");
    }

    @Test
    void shouldParseJson() {
        PlanCatalog catalog = CatalogParser.parse("""
                {"defaultPlan":"free","plans":[{"id":"free","limits":[
                  {"id":"cost","meter":"cost_usd","window":"billing_period","max":"5.000000001"}]}]}
                """, Format.JSON);
        assertThat(catalog.defaultPlan().limits().get(0).max()).isEqualTo(new BigDecimal("5.000000001"));
        assertThat(catalog.defaultPlan().limits().get(0).code()).isEqualTo("USAGE_LIMIT_EXCEEDED");
    }

    @Test
    void shouldNameEveryProblemWithItsPath() {
        assertThat(problems("""
                defaultPlan: free
                plans:
                  - id: free
                    limits:
                      - { id: a, meter: quantity, window: day, max: -1 }
                      - { id: a, meter: quantity, window: day, max: 1 }
                  - id: free
                    limits:
                      - { id: b, meter: bytes, window: day, max: 1 }
                      - { id: c, meter: cost_usd, window: day, max: "twelve" }
                  - id: pro
                    limits:
                      - { id: d, meter: quantity, window: weekly, max: 5 }
                      - { id: e, meter: quantity, window: day }
                      - { id: f, meter: quantity, window: day, max: 1.5 }
                """)).containsExactly(
                "plans[0].limits[0].max: must not be negative, got -1",
                "plans[0].limits[1].id: duplicate limit id 'a'",
                "plans[1].limits[0].meter: unknown meter 'bytes' (expected one of "
                        + "[events, quantity, input_tokens, output_tokens, tokens, cost_usd])",
                "plans[1].limits[1].max: 'twelve' is not a decimal amount, e.g. \"20.00\"",
                "plans[1].id: duplicate plan id 'free'",
                "plans[2].limits[0].window: unknown window 'weekly' (expected hour, day, month, billing_period,"
                        + " lifetime, rolling:<N>h up to 8784 or rolling:<N>d up to 366)",
                "plans[2].limits[1].max: required",
                "plans[2].limits[2].max: quantity needs a whole number, got 1.5");
    }

    @Test
    void shouldRefuseAConversationLimitWithAWindowOtherThanLifetime() {
        assertThat(problems("""
                defaultPlan: free
                plans:
                  - id: free
                    limits:
                      - { id: per-conversation, meter: quantity, window: day, scope: conversation, max: 50 }
                """)).containsExactly("plans[0].limits[0].window: a conversation-scope limit counts over the"
                + " conversation's whole life: use window: lifetime (got 'day')");
    }

    @Test
    void shouldRefuseUnknownDefaultPlanUnknownFieldsAndBadFeatureCodes() {
        assertThat(problems("""
                defaultPlan: gold
                plans:
                  - id: free
                    features: [chat-message]
                    maximum: 3
                """)).containsExactly(
                "plans[0].maximum: unknown field (expected one of [features, id, limits, lowBalanceAlertUsd, minBalanceUsd, name,"
                        + " prepaid, priceUsd, welcomeCreditUsd])",
                "plans[0].features[0]: 'chat-message' is not a feature code [A-Z][A-Z0-9_]{0,63}");
        assertThat(problems("""
                defaultPlan: gold
                plans: [{ id: free }]
                """)).containsExactly("defaultPlan: unknown plan 'gold'");
    }

    @Test
    void shouldRefuseMalformedYamlAndEmptyCatalogs() {
        assertThat(problems("defaultPlan: [free\nplans: :")).singleElement().asString()
                .startsWith("$: malformed YAML at line");
        assertThat(problems("")).containsExactly("$: the catalog is empty");
        assertThat(problems("defaultPlan: free")).containsExactly("plans: required");
        assertThat(catchThrowableOfType(CatalogValidationException.class,
                () -> CatalogParser.parse("{\"defaultPlan\": ", Format.JSON)).problems())
                .singleElement().asString().startsWith("$: malformed JSON at line 1");
    }

    @Test
    void shouldDefaultMinimumBalanceOfPrepaidPlansToOneCent() {
        Plan payg = CatalogParser.parse("defaultPlan: payg\nplans: [{ id: payg, prepaid: true }]", Format.YAML)
                .defaultPlan();
        assertThat(payg.prepaid()).isTrue();
        assertThat(payg.minBalanceUsd()).isEqualByComparingTo("0.01");
    }
}
