package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.plan.CatalogParser;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

/** {@code plans apply [--dry-run]} on the real PostgreSQL: the diff, orgs blocked now under each catalog, no new version for an identical catalog. */
class PlansApplyIT {

    private static final Instant NOW = Instant.parse("2026-11-22T18:30:00Z");

    private static final String CATALOG = """
            defaultPlan: free
            plans:
              - id: free
                limits:
                  - { id: daily, feature: CHAT_MESSAGE, meter: quantity, window: day, max: 200 }
            """;

    private static String run(DSLContext dsl, String source, boolean dryRun) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PlansCommand.apply(dsl, "catalog.yaml", source, CatalogParser.Format.YAML, dryRun, NOW,
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static void messages(DSLContext dsl, String org, long n) {
        dsl.execute("INSERT INTO metering.org_usage_daily (org_id, feature, window_start, events, quantity, input_tokens,"
                + " output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at,"
                + " updated_at, version) VALUES (?, 'CHAT_MESSAGE', '2026-11-22T00:00:00Z', ?, ?, 0, 0, 0, 0, 0,"
                + " '2026-11-22T10:00:00Z', '2026-11-22T10:00:00Z', '2026-11-22T10:00:00Z', 1)", org, n, n);
    }

    @Test
    void shouldPrintTheOrgsBlockedNowUnderEachCatalogAndStoreAnIdenticalCatalogOnce() {
        PostgresServer pg = TestInfra.postgres();
        String url = pg.createDatabase("app_plans_apply");
        Migrations.migrate(url, pg.user(), pg.password());
        DSLContext dsl = DSL.using(url, pg.user(), pg.password());

        assertThat(run(dsl, CATALOG, false)).endsWith("stored as version 1\n");
        messages(dsl, "full", 200);
        messages(dsl, "busy", 150);
        messages(dsl, "calm", 10);

        assertThat(run(dsl, CATALOG.replace("max: 200", "max: 100"), true)).isEqualTo("""
                stored catalog: version 1
                ~ plan free:
                    ~ daily CHAT_MESSAGE quantity/day/org max 200 hard  ->  daily CHAT_MESSAGE quantity/day/org max 100 hard
                orgs blocked right now (a hard limit reached): 1 of 3 under the stored catalog, 2 of 3 under catalog.yaml
                newly blocked: busy
                dry run: nothing stored
                """);
        assertThat(run(dsl, "# the same catalog, reformatted\n" + CATALOG, false)).isEqualTo("""
                stored catalog: version 1
                  no changes
                orgs blocked right now (a hard limit reached): 1 of 3 under the stored catalog, 1 of 3 under catalog.yaml
                unchanged: version 1 stays in force
                """);
        assertThat(dsl.fetchCount(DSL.table("metering.plan_catalogs"))).isEqualTo(1);
    }
}
