package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.PlanCatalog;
import org.junit.jupiter.api.Test;

class PlansDiffTest {

    private static PlanCatalog yaml(String text) {
        return CatalogParser.parse(text, CatalogParser.Format.YAML);
    }

    private static final String BASE = """
            defaultPlan: free
            plans:
              - id: free
                name: Free
                limits:
                  - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 200 }
              - id: pro
                name: Pro
                limits:
                  - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 5000 }
            """;

    @Test
    void shouldListAddedRemovedAndChangedPlansAndLimits() {
        PlanCatalog next = yaml("""
                defaultPlan: free
                plans:
                  - id: free
                    name: Free
                    limits:
                      - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 100 }
                      - { id: monthly-tokens, meter: tokens, window: month, max: 10000 }
                  - id: team
                    name: Team
                    limits:
                      - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 50, perSeat: true }
                """);
        assertThat(PlansCommand.diff(yaml(BASE), next)).containsExactly(
                "~ plan free:",
                "    ~ daily CHAT_MESSAGE quantity/day/org max 200 hard  ->  daily CHAT_MESSAGE quantity/day/org max 100 hard",
                "    + monthly-tokens * tokens/month/org max 10000 hard",
                "- plan pro",
                "+ plan team: daily CHAT_MESSAGE quantity/day/org max 50 per seat hard");
    }

    @Test
    void shouldSayNoChangesForTheSameCatalog() {
        assertThat(PlansCommand.diff(yaml(BASE), yaml(BASE))).containsExactly("  no changes");
    }
}
