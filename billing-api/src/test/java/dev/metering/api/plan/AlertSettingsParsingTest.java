package dev.metering.api.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.metering.api.plan.CatalogParser.Format;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class AlertSettingsParsingTest {

    private static PlanCatalog parse(String limitExtra, String planExtra) {
        return CatalogParser.parse("""
                defaultPlan: free
                plans:
                  - id: free
                %s
                    limits:
                      - id: daily
                        meter: quantity
                        window: day
                        max: 100
                %s
                """.formatted(planExtra, limitExtra), Format.YAML);
    }

    private static List<String> problems(String limitExtra, String planExtra) {
        return catchThrowableOfType(CatalogValidationException.class, () -> parse(limitExtra, planExtra)).problems();
    }

    @Test
    void shouldDefaultToEightyAndHundredPercentAndNoLowBalanceAlert() {
        Plan plan = parse("", "").plan("free").orElseThrow();
        assertThat(plan.limits().get(0).alertAt()).containsExactly(new BigDecimal("0.8"), BigDecimal.ONE);
        assertThat(plan.lowBalanceAlertUsd()).isNull();
    }

    @Test
    void shouldParseSortedThresholdsAnEmptyListAndTheLowBalanceAmount() {
        Plan plan = parse("        alertAt: [1.0, 0.5, \"0.9\"]", "    lowBalanceAlertUsd: \"5.00\"").plan("free").orElseThrow();
        assertThat(plan.limits().get(0).alertAt()).containsExactly(new BigDecimal("0.5"), new BigDecimal("0.9"),
                BigDecimal.ONE);
        assertThat(plan.lowBalanceAlertUsd()).isEqualByComparingTo("5");
        assertThat(parse("        alertAt: []", "").plan("free").orElseThrow().limits().get(0).alertAt()).isEmpty();
    }

    @Test
    void shouldReportEveryBadThresholdWithItsPath() {
        assertThat(problems("        alertAt: [0, 0.8, 0.8, 11, abc, 0.12345]", "    lowBalanceAlertUsd: \"-1\"")).containsExactly(
                "plans[0].lowBalanceAlertUsd: must not be negative, got -1",
                "plans[0].limits[0].alertAt[0]: must be above 0 and at most 10, got 0",
                "plans[0].limits[0].alertAt[2]: duplicate threshold 0.8",
                "plans[0].limits[0].alertAt[3]: must be above 0 and at most 10, got 11",
                "plans[0].limits[0].alertAt[4]: 'abc' is not a fraction, e.g. 0.8",
                "plans[0].limits[0].alertAt[5]: at most 4 decimals, got 0.12345");
        assertThat(problems("        alertAt: 0.8", "")).containsExactly(
                "plans[0].limits[0].alertAt: expected a list of fractions, e.g. [0.8, 1.0]");
    }
}
