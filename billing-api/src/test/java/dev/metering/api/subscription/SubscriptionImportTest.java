package dev.metering.api.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.bulk.ImportRows;
import dev.metering.api.plan.CatalogParser;
import dev.metering.api.plan.PlanCatalog;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SubscriptionImportTest {

    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");
    private static final PlanCatalog CATALOG = CatalogParser.parse("""
            defaultPlan: free
            plans:
              - id: free
                limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 50 }]
              - id: team
                limits:
                  - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 500 }
                  - { id: budget, meter: cost_usd, window: month, max: "100" }
            """, CatalogParser.Format.YAML);

    private static SubscriptionImport.Validated validate(String csv, Map<String, Subscription> existing) {
        return SubscriptionImport.validate(ImportRows.csv(csv, ImportRows.SUBSCRIPTIONS), CATALOG, existing, NOW);
    }

    @Test
    void shouldApplyThePutDefaultsAndKeepAnExistingPeriod() {
        Subscription old = new Subscription("b", "free", SubscriptionStatus.ACTIVE, Instant.parse("2026-11-05T00:00:00Z"),
                Instant.parse("2026-12-05T00:00:00Z"), 1, Map.of(), null, NOW);
        SubscriptionImport.Validated v = validate("orgId,planId,periodStart\na,team,\nb,team,\nc,free,2026-11-10\n",
                Map.of("b", old));

        assertThat(v.invalid()).isEmpty();
        Subscription a = v.valid().get(0);
        assertThat(a.status()).isEqualTo(SubscriptionStatus.ACTIVE);
        assertThat(a.seats()).isEqualTo(1);
        assertThat(a.periodStart()).isEqualTo(Instant.parse("2026-11-22T00:00:00Z"));
        assertThat(a.periodEnd()).isEqualTo(Instant.parse("2026-12-22T00:00:00Z"));
        assertThat(v.valid().get(1).periodStart()).isEqualTo(old.periodStart());
        assertThat(v.valid().get(1).periodEnd()).isEqualTo(old.periodEnd());
        assertThat(v.valid().get(2).periodEnd()).isEqualTo(Instant.parse("2026-12-10T00:00:00Z"));
        assertThat(v.byPlan()).containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of("free", 1, "team", 2)));
    }

    @Test
    void shouldReportEnterpriseRowsWithoutAnOverrideAsSeed003sEnterpriseWithoutMetadata() throws Exception {
        PlanCatalog seed003 = CatalogParser.parse(java.nio.file.Files.readString(
                java.nio.file.Path.of("..", "examples", "003-usage-based-billing.yaml")), CatalogParser.Format.YAML);
        SubscriptionImport.Validated v = SubscriptionImport.validate(ImportRows.csv("""
                orgId,planId,seats,override.period-cost
                acme,enterprise,1,250
                globex,enterprise,1,
                initech,team,5,
                hooli,enterprise,,
                umbrella,pro,,
                umbrella,enterprise,,
                """, ImportRows.SUBSCRIPTIONS), seed003, Map.of(), NOW);

        // line 7 repeats an org: invalid, so not counted; only valid rows are analysed
        assertThat(v.enterpriseWithoutOverride()).containsExactly(3, 5);
        assertThat(v.invalid()).extracting(ImportRows.Problem::line).containsExactly(7);
    }

    @Test
    void shouldAnalyseTheSeed003ExampleFileAsTheWalkthroughShowsIt() throws Exception {
        PlanCatalog seed003 = CatalogParser.parse(java.nio.file.Files.readString(
                java.nio.file.Path.of("..", "examples", "003-usage-based-billing.yaml")), CatalogParser.Format.YAML);
        SubscriptionImport.Validated v = SubscriptionImport.validate(ImportRows.csv(java.nio.file.Files.readString(
                java.nio.file.Path.of("..", "examples", "003-subscriptions.csv")), ImportRows.SUBSCRIPTIONS), seed003, Map.of(),
                NOW);

        assertThat(v.rows()).isEqualTo(7);
        assertThat(v.valid()).hasSize(6);
        assertThat(v.invalid()).extracting(ImportRows.Problem::line, ImportRows.Problem::field)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(8, "planId"));
        assertThat(v.byPlan()).containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of("enterprise", 2, "pro", 2, "team", 2)));
        assertThat(v.enterpriseWithoutOverride()).containsExactly(3);
        assertThat(v.valid().get(0).overrides()).containsEntry("period-cost", new BigDecimal("250"));
    }

    @Test
    void shouldTreatAPlanNamedEnterpriseLikeOneWhoseIdSaysSoButNotOneWithoutLimits() {
        PlanCatalog catalog = CatalogParser.parse("""
                defaultPlan: free
                plans:
                  - id: free
                    limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 50 }]
                  - id: ent-2026
                    name: Enterprise 2026
                    limits: [{ id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 5000 }]
                  - id: enterprise-unlimited
                    limits: []
                """, CatalogParser.Format.YAML);
        SubscriptionImport.Validated v = SubscriptionImport.validate(ImportRows.csv(
                "orgId,planId\na,ent-2026\nb,enterprise-unlimited\nc,free\n", ImportRows.SUBSCRIPTIONS), catalog, Map.of(),
                NOW);

        assertThat(v.invalid()).isEmpty();
        assertThat(v.enterpriseWithoutOverride()).containsExactly(2);
    }

    @Test
    void shouldNameTheFieldOfEveryKindOfBadRow() {
        SubscriptionImport.Validated v = validate("orgId,planId,status,periodStart,periodEnd,seats,enforcement,"
                + "override.daily,override.budget,override.monthly\n"
                + ",team,,,,,,,,\n"
                + "a,gold,,,,,,,,\n"
                + "b,team,paused,,,,,,,\n"
                + "c,team,,yesterday,,,,,,\n"
                + "d,team,,2026-11-10,2026-11-10,,,,,\n"
                + "e,team,,,,1000001,,,,\n"
                + "f,team,,,,,strict,,,\n"
                + "g,team,,,,,,1.5,,\n"
                + "h,team,,,,,,,-1,\n"
                + "i,free,,,,,,,12.5,\n"
                + "j,team,,,,,,,,7\n"
                + "k,team,,,,,,,0.000000001,\n"
                + "k,team,,,,,,,,\n", Map.of());

        assertThat(v.invalid()).extracting(ImportRows.Problem::line, ImportRows.Problem::field)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(2, "orgId"),
                        org.assertj.core.groups.Tuple.tuple(3, "planId"),
                        org.assertj.core.groups.Tuple.tuple(4, "status"),
                        org.assertj.core.groups.Tuple.tuple(5, "periodStart"),
                        org.assertj.core.groups.Tuple.tuple(6, "periodEnd"),
                        org.assertj.core.groups.Tuple.tuple(7, "seats"),
                        org.assertj.core.groups.Tuple.tuple(8, "enforcement"),
                        org.assertj.core.groups.Tuple.tuple(9, "override.daily"),
                        org.assertj.core.groups.Tuple.tuple(10, "override.budget"),
                        org.assertj.core.groups.Tuple.tuple(11, "override.budget"),
                        org.assertj.core.groups.Tuple.tuple(12, "override.monthly"),
                        org.assertj.core.groups.Tuple.tuple(14, "orgId"));
        assertThat(v.valid()).extracting(Subscription::orgId).containsExactly("k");
        assertThat(v.valid().get(0).overrides()).isEqualTo(Map.of("budget", new BigDecimal("0.000000001")));
    }

    @Test
    void shouldCountARowEqualToTheStoredOneUnchangedWhateverTheDecimalScale() {
        Subscription stored = new Subscription("a", "team", SubscriptionStatus.ACTIVE, Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-12-01T00:00:00Z"), 2, Map.of("budget", new BigDecimal("12.500000000")), null, NOW);
        SubscriptionImport.Validated v = validate("orgId,planId,periodStart,periodEnd,seats,override.budget\n"
                + "a,team,2026-11-01T00:00:00Z,2026-12-01,2,12.5\n"
                + "b,team,2026-11-01T00:00:00Z,2026-12-01,2,12.5\n"
                + "c,team,2026-11-01T00:00:00Z,2026-12-01,3,\n", Map.of());
        Subscription c = new Subscription("c", "team", SubscriptionStatus.ACTIVE, Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-12-01T00:00:00Z"), 3, Map.of("budget", BigDecimal.TEN), null, NOW);

        SubscriptionImport.Changes changes = SubscriptionImport.changes(v.valid(), Map.of("a", stored, "c", c));

        assertThat(changes.unchanged()).isEqualTo(1);
        assertThat(changes.created()).extracting(Subscription::orgId).containsExactly("b");
        assertThat(changes.replaced()).extracting(Subscription::orgId).containsExactly("c");
        assertThat(v.invalid()).isEqualTo(List.of());
    }
}
