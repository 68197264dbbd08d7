package dev.metering.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.ratelimit.RateLimits.Budget;
import org.junit.jupiter.api.Test;

class AuthBudgetTest {

    @Test
    void shouldPutIngestChecksAndReservationsOnTheHotPathBudget() {
        assertThat(Auth.budgetOf("/api/v1/events")).isEqualTo(Budget.CHECK);
        assertThat(Auth.budgetOf("/api/v1/usage/acme/check/CHAT_MESSAGE")).isEqualTo(Budget.CHECK);
        assertThat(Auth.budgetOf("/api/v1/usage/acme/reservations")).isEqualTo(Budget.CHECK);
        assertThat(Auth.budgetOf("/api/v1/usage/acme/reservations/r-1/settle")).isEqualTo(Budget.CHECK);
    }

    @Test
    void shouldPutEverythingElseOnTheGeneralBudgetWhateverTheOrgIsCalled() {
        assertThat(Auth.budgetOf("/api/v1/usage/check/limits")).isEqualTo(Budget.GENERAL);
        assertThat(Auth.budgetOf("/api/v1/usage/reservations/report")).isEqualTo(Budget.GENERAL);
        assertThat(Auth.budgetOf("/api/v1/usage/acme")).isEqualTo(Budget.GENERAL);
        assertThat(Auth.budgetOf("/api/v1/plans")).isEqualTo(Budget.GENERAL);
        assertThat(Auth.budgetOf("/api/v1/events/x")).isEqualTo(Budget.GENERAL);
    }
}
