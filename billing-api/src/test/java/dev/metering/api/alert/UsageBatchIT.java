package dev.metering.api.alert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.api.it.ApiServer;
import dev.metering.api.it.SinkRows;
import dev.metering.api.store.UsageRepository;
import dev.metering.api.usage.Grain;
import dev.metering.api.usage.UsageSegment;
import dev.metering.api.usage.UsageTotals;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

/** The detector's batched usage read against the check's own statement, on real PostgreSQL. */
class UsageBatchIT {

    private static final Instant T = Instant.parse("2026-11-22T10:30:00Z");

    @Test
    void shouldReadTheSameTotalsAsTheCheckForEverySegmentShapeOfManyOrgsAtOnce() {
        String url = ApiServer.freshDatabase("usage_batch");
        PostgresServer pg = TestInfra.postgres();
        DSLContext dsl = DSL.using(url, pg.user(), pg.password());
        SinkRows sink = new SinkRows(dsl);
        sink.usage("acme", "u1", "CHAT_MESSAGE", T, 3, 3, 0, 0, "0")
                .usage("acme", "u2", "CHAT_MESSAGE", T.minus(Duration.ofHours(2)), 5, 5, 0, 0, "0")
                .usage("acme", "", "AI_COMPLETION", T.minus(Duration.ofDays(1)), 1, 1, 1200, 300, "0.0125")
                .usage("globex", "u1", "CHAT_MESSAGE", T, 7, 7, 0, 0, "0");
        dsl.execute("INSERT INTO metering.conversation_usage (org_id, conversation_id, feature, events, quantity, "
                + "input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at, "
                + "updated_at, version) VALUES ('acme', 'c1', 'AI_COMPLETION', 2, 2, 100, 50, 10, 0, 0.002, now(), now(), "
                + "now(), 1), ('acme', 'c1', 'CHAT_MESSAGE', 4, 4, 0, 0, 0, 0, 0, now(), now(), now(), 1)");

        Instant dayStart = Instant.parse("2026-11-22T00:00:00Z");
        Instant monthStart = Instant.parse("2026-11-01T00:00:00Z");
        Set<UsageSegment> segments = new LinkedHashSet<>(List.of(
                new UsageSegment(Grain.HOURLY, null, null, dayStart, T.plus(Duration.ofHours(1))),
                new UsageSegment(Grain.HOURLY, null, "CHAT_MESSAGE", T.minus(Duration.ofHours(1)), T.plus(Duration.ofHours(1))),
                new UsageSegment(Grain.DAILY, null, null, monthStart, dayStart.plus(Duration.ofDays(1))),
                new UsageSegment(Grain.HOURLY, "u1", "CHAT_MESSAGE", dayStart, T.plus(Duration.ofHours(1))),
                new UsageSegment(Grain.DAILY, "u2", null, monthStart, dayStart.plus(Duration.ofDays(1))),
                new UsageSegment(Grain.LIFETIME, null, "CHAT_MESSAGE", Instant.EPOCH, T),
                new UsageSegment(Grain.LIFETIME, "u1", null, Instant.EPOCH, T),
                UsageSegment.conversation("c1", null, Instant.EPOCH, T),
                UsageSegment.conversation("c1", "AI_COMPLETION", Instant.EPOCH, T)));

        UsageBatch batch = new UsageBatch();
        for (String org : List.of("acme", "globex", "nobody")) {
            batch.collecting().totals(org, segments);
        }
        batch.fetch(dsl);

        UsageRepository check = new UsageRepository(dsl);
        for (String org : List.of("acme", "globex", "nobody")) {
            assertThat(batch.reader().totals(org, segments)).as(org).isEqualTo(check.totals(org, segments));
        }
        Map<UsageSegment, UsageTotals> acme = batch.reader().totals("acme", segments);
        assertThat(acme.values()).extracting(UsageTotals::quantity).containsExactly(8L, 3L, 9L, 3L, 5L,
                check.totals("acme", Set.of(new UsageSegment(Grain.LIFETIME, null, "CHAT_MESSAGE", Instant.EPOCH, T)))
                        .values().iterator().next().quantity(),
                check.totals("acme", Set.of(new UsageSegment(Grain.LIFETIME, "u1", null, Instant.EPOCH, T)))
                        .values().iterator().next().quantity(), 6L, 2L);
        assertThat(acme.get(UsageSegment.conversation("c1", "AI_COMPLETION", Instant.EPOCH, T)).costUsd())
                .isEqualByComparingTo(new BigDecimal("0.002"));
        assertThat(batch.reader().totals("nobody", segments).values()).containsOnly(UsageTotals.ZERO);
    }
}
