package dev.metering.api.plan;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The default codes (docs/contract.md, Check): the blocking limit's own window and meter; an explicit code wins. */
class DefaultCodesTest {

    @ParameterizedTest(name = "{0} / {1} / {2} -> {3}")
    @CsvSource({
            "quantity,      hour,           org,  HOURLY_MESSAGE_LIMIT_EXCEEDED",
            "events,        day,            org,  DAILY_MESSAGE_LIMIT_EXCEEDED",
            "quantity,      month,          org,  MONTHLY_MESSAGE_LIMIT_EXCEEDED",
            "events,        billing_period, user, MONTHLY_MESSAGE_LIMIT_EXCEEDED",
            "quantity,      rolling:5h,     org,  HOURLY_MESSAGE_LIMIT_EXCEEDED",
            "quantity,      rolling:7d,     user, DAILY_MESSAGE_LIMIT_EXCEEDED",
            "tokens,        hour,           org,  HOURLY_TOKEN_LIMIT_EXCEEDED",
            "input_tokens,  day,            org,  DAILY_TOKEN_LIMIT_EXCEEDED",
            "output_tokens, month,          org,  MONTHLY_TOKEN_LIMIT_EXCEEDED",
            "tokens,        billing_period, org,  MONTHLY_TOKEN_LIMIT_EXCEEDED",
            "tokens,        rolling:5h,     user, HOURLY_TOKEN_LIMIT_EXCEEDED",
            "tokens,        rolling:30d,    org,  DAILY_TOKEN_LIMIT_EXCEEDED",
            "cost_usd,      hour,           org,  USAGE_LIMIT_EXCEEDED",
            "cost_usd,      month,          user, USAGE_LIMIT_EXCEEDED",
            "quantity,      lifetime,       user, LIFETIME_LIMIT_EXCEEDED",
            "tokens,        lifetime,       org,  LIFETIME_LIMIT_EXCEEDED",
            "cost_usd,      lifetime,       org,  LIFETIME_LIMIT_EXCEEDED",
    })
    void shouldNameTheLimitsOwnWindowAndMeter(String meter, String window, String scope, String code) {
        String yaml = "defaultPlan: p\nplans:\n  - id: p\n    limits:\n      - { id: l, meter: " + meter
                + ", window: \"" + window + "\", scope: " + scope + ", max: 1 }\n";
        PlanLimit l = CatalogParser.parse(yaml, CatalogParser.Format.YAML).defaultPlan().limits().get(0);
        assertThat(l.code()).isEqualTo(code);
    }

    @ParameterizedTest
    @CsvSource({"quantity, day", "tokens, month", "cost_usd, lifetime"})
    void shouldKeepAnExplicitCode(String meter, String window) {
        String yaml = "defaultPlan: p\nplans:\n  - id: p\n    limits:\n      - { id: l, meter: " + meter
                + ", window: " + window + ", max: 1, code: OUT_OF_CREDITS }\n";
        assertThat(CatalogParser.parse(yaml, CatalogParser.Format.YAML).defaultPlan().limits().get(0).code())
                .isEqualTo("OUT_OF_CREDITS");
    }
}
