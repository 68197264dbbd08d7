package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The array upsert on the real PostgreSQL: every value arrives exactly, the version guard holds. */
class UsageUpsertIT {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Instant T0 = Instant.parse("2026-11-02T10:00:00Z");
    private static final OffsetDateTime NOW = OffsetDateTime.parse("2026-11-02T12:00:00.123Z");
    private static final TopicPartition SOURCE = new TopicPartition("aggregates", 0);

    private final PostgresServer postgres = TestInfra.postgres();
    private final UsageUpsert upsert = new UsageUpsert();
    private String database;

    @BeforeEach
    void createDatabase() {
        database = "upsert_it_" + SEQUENCE.incrementAndGet() + "_" + System.nanoTime();
        Migrations.migrate(postgres.createDatabase(database), postgres.user(), postgres.password());
    }

    @Test
    void shouldStoreEveryValueExactlyThroughTheArrays() throws Exception {
        // characters that need quoting in an array literal: quote, backslash, comma, braces, space, NULL word
        String org = "a\"b\\c,d{e}f g";
        WindowUpdate detail = update(Aggregates.key().org(org).user("NULL").feature("AI_COMPLETION")
                .model("open,ai", "gpt-4o \"mini\"").hour(T0).build(), Aggregates.totals().events(7).quantity(9)
                .tokens(1200, 300, 100).unpriced(2).costFemtos("123456789012345678901234")
                .between(T0.plusMillis(1), T0.plusSeconds(3599).plusMillis(999)).version(7).build());
        WindowUpdate orgDay = update(Aggregates.key().org("Zoë 東京").day(Instant.parse("2026-11-02T00:00:00Z"))
                .orgGrain().build(), Aggregates.totals().events(1).costFemtos("2500000").version(1).build());

        write(List.of(detail, orgDay));

        assertThat(rows("SELECT org_id, user_id, feature, provider, model, window_start, events, quantity, input_tokens,"
                + " output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at,"
                + " updated_at, version FROM metering.usage_hourly"))
                .containsExactly(org + "|NULL|AI_COMPLETION|open,ai|gpt-4o \"mini\"|2026-11-02 10:00:00+00|7|9|1200|300|100|2"
                        + "|123456789.012345679|2026-11-02 10:00:00.001+00|2026-11-02 10:59:59.999+00"
                        + "|2026-11-02 12:00:00.123+00|7");
        assertThat(rows("SELECT org_id, feature, window_start, events, cost_usd, version FROM metering.org_usage_daily"))
                .containsExactly("Zoë 東京|CHAT_MESSAGE|2026-11-02 00:00:00+00|1|0.000000002|1");
    }

    @Test
    void shouldKeepTheNewestVersionAndCountStaleRows() throws Exception {
        List<WindowUpdate> first = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            first.add(update(Aggregates.key().org("org-" + i).hour(T0).build(),
                    Aggregates.totals().events(5).version(5).build()));
        }
        write(first);
        // org-0 older, org-1 same version, org-2 newer, org-3 new
        List<WindowUpdate> second = List.of(
                update(Aggregates.key().org("org-0").hour(T0).build(), Aggregates.totals().events(4).version(4).build()),
                update(Aggregates.key().org("org-1").hour(T0).build(), Aggregates.totals().events(9).version(5).build()),
                update(Aggregates.key().org("org-2").hour(T0).build(), Aggregates.totals().events(6).version(6).build()),
                update(Aggregates.key().org("org-3").hour(T0).build(), Aggregates.totals().events(1).version(1).build()));

        UsageUpsert.Outcome outcome = write(second);

        assertThat(outcome).isEqualTo(new UsageUpsert.Outcome(2, 2, 1));
        assertThat(rows("SELECT org_id, events, version FROM metering.usage_hourly ORDER BY org_id"))
                .containsExactly("org-0|5|5", "org-1|5|5", "org-2|6|6", "org-3|1|1");
    }

    @Test
    void shouldWriteTenThousandRowsInOneStatement() throws Exception {
        List<WindowUpdate> rows = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            rows.add(update(Aggregates.key().org(String.format("org-%05d", i)).hour(T0).build(),
                    Aggregates.totals().events(i).costFemtos("1000000").version(1).build()));
        }

        UsageUpsert.Outcome outcome = write(rows);

        assertThat(outcome).isEqualTo(new UsageUpsert.Outcome(10_000, 0, 1));
        assertThat(rows("SELECT count(*), sum(events), sum(cost_usd) FROM metering.usage_hourly"))
                .containsExactly("10000|49995000|0.000010000");
    }

    private UsageUpsert.Outcome write(List<WindowUpdate> updates) throws Exception {
        List<WindowUpdate> sorted = new ArrayList<>(updates);
        sorted.sort(RecordDecoder.KEY_ORDER);
        UsageUpsert.Outcome last = null;
        try (Connection c = postgres.connect(database)) {
            c.setAutoCommit(false);
            for (var e : UsageUpsert.byTarget(sorted).entrySet()) {
                last = upsert.upsert(c, e.getKey(), e.getValue(), NOW);
            }
            c.commit();
        }
        return last;
    }

    private static WindowUpdate update(dev.metering.avro.UsageWindowKey key, dev.metering.avro.UsageWindowTotals totals) {
        return new WindowUpdate(key, totals, SOURCE, 0, T0.toEpochMilli(), null, null);
    }

    private List<String> rows(String sql) throws Exception {
        List<String> result = new ArrayList<>();
        try (Connection c = postgres.connect(database); Statement s = c.createStatement()) {
            s.execute("SET TIME ZONE 'UTC'");
            try (ResultSet rs = s.executeQuery(sql)) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    StringBuilder row = new StringBuilder();
                    for (int i = 1; i <= columns; i++) {
                        row.append(i == 1 ? "" : "|").append(rs.getString(i));
                    }
                    result.add(row.toString());
                }
            }
        }
        return result;
    }
}
