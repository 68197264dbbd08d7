package dev.metering.api.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** The alert settings of the example catalogs. */
class ExampleAlertsTest {

    @Test
    void shouldWarnSeed000TrialsAtEightyPercentOfMonthlyTokensOnly() {
        Plan trial = ExampleCatalogs.load(ExampleCatalogs.SEED_000).plan("TRIAL").orElseThrow();
        assertThat(trial.limit("monthly-tokens").orElseThrow().alertAt()).containsExactly(new BigDecimal("0.8"));
        assertThat(trial.limit("daily-messages").orElseThrow().alertAt()).isEqualTo(PlanLimit.DEFAULT_ALERT_AT);
    }

    @Test
    void shouldAlertSeed004BelowTwoDollars() {
        Plan payg = ExampleCatalogs.load(ExampleCatalogs.SEED_004).plan("payg").orElseThrow();
        assertThat(payg.lowBalanceAlertUsd()).isEqualByComparingTo("2");
    }
}
