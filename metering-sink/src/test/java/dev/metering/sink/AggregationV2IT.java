package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.db.Migrations;
import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sink's part of aggregation v2 on the real PostgreSQL: usage_daily derived from the hour
 * rows, the conversation grain, and the event log (COPY, partitions, retention).
 */
class AggregationV2IT {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Instant DAY = Instant.parse("2026-11-02T00:00:00Z");
    private static final Instant NOW = Instant.parse("2026-11-02T12:00:00Z");
    private static final TopicPartition SOURCE = new TopicPartition("aggregates", 0);

    private final PostgresServer postgres = TestInfra.postgres();
    private String database;
    private String url;
    private SinkWriter writer;
    private EventLogWriter eventLog;

    @BeforeEach
    void createDatabase() {
        database = "aggregation_v2_it_" + SEQUENCE.incrementAndGet() + "_" + System.nanoTime();
        url = postgres.createDatabase(database);
        Migrations.migrate(url, postgres.user(), postgres.password());
        eventLog = new EventLogWriter(Duration.ofDays(35));
        writer = new SinkWriter(url, postgres.user(), postgres.password(), Clock.fixed(NOW, ZoneOffset.UTC), eventLog);
    }

    @AfterEach
    void close() {
        writer.close();
    }

    @Test
    void shouldDeriveEachDetailDayAsTheSumOfItsHourRows() throws Exception {
        UsageWindowKey h10 = Aggregates.key().org("acme").user("u1").hour(DAY.plusSeconds(10 * 3600)).build();
        UsageWindowKey h11 = Aggregates.key().org("acme").user("u1").hour(DAY.plusSeconds(11 * 3600)).build();
        UsageWindowKey u2 = Aggregates.key().org("acme").user("u2").hour(DAY.plusSeconds(10 * 3600)).build();
        write(batch(update(h10, totals(3, "1000000", 3)), update(u2, totals(1, "5", 1))));
        write(batch(update(h11, Aggregates.totals().events(2).costFemtos("2000000").version(2)
                .between(DAY.plusSeconds(11 * 3600), DAY.plusSeconds(11 * 3600 + 59 * 60)).build())));
        write(batch(update(h10, totals(2, "999", 2)))); // a stale replay of hour 10 changes nothing

        assertThat(rows("SELECT user_id, window_start, events, quantity, cost_usd, first_event_at, last_event_at, version "
                + "FROM metering.usage_daily ORDER BY user_id")).containsExactly(
                "u1|2026-11-02 00:00:00+00|5|5|0.000000003|2026-11-02 10:05:00+00|2026-11-02 11:59:00+00|5",
                "u2|2026-11-02 00:00:00+00|1|1|0.000000000|2026-11-02 10:05:00+00|2026-11-02 10:05:00+00|1");
        assertThat(rows("SELECT sum(events), sum(cost_usd) FROM metering.usage_hourly WHERE user_id = 'u1'"))
                .containsExactly("5|0.000000003");
    }

    @Test
    void shouldKeepEachDayTheSumOfItsHoursWhileTwoWritersUpdateItsHoursConcurrently() throws Exception {
        // two sink instances (e.g. partitions moving between them) write different hours of the same days
        int rounds = 40;
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int first = w * 12;
            threads.add(new Thread(() -> {
                try (SinkWriter other = new SinkWriter(url, postgres.user(), postgres.password(),
                        Clock.fixed(NOW, ZoneOffset.UTC))) {
                    for (int v = 1; v <= rounds; v++) {
                        List<WindowUpdate> updates = new ArrayList<>();
                        for (int h = first; h < first + 12; h++) {
                            for (String user : List.of("u1", "u2")) {
                                Instant hour = DAY.plusSeconds(h * 3600L);
                                updates.add(update(Aggregates.key().org("acme").user(user).hour(hour).build(),
                                        Aggregates.totals().events(v * (h + 1L)).quantity(v).costFemtos(Long.toString(v * 1_000_007L))
                                                .version(v).between(hour, hour.plusSeconds(v)).build()));
                            }
                        }
                        other.write(batch(updates.toArray(WindowUpdate[]::new)));
                        if (v % 5 == 0) { // a replay of an older version changes nothing
                            other.write(batch(update(updates.get(0).key(), Aggregates.totals().events(1).version(v - 1).build())));
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();

        String sums = "SELECT user_id, sum(events), sum(quantity), sum(cost_usd), min(first_event_at), max(last_event_at), "
                + "sum(version) FROM metering.usage_hourly GROUP BY user_id ORDER BY user_id";
        assertThat(rows("SELECT user_id, events, quantity, cost_usd, first_event_at, last_event_at, version "
                + "FROM metering.usage_daily ORDER BY user_id")).containsExactly(
                "u1|12000|960|0.000000960|2026-11-02 00:00:00+00|2026-11-02 23:00:40+00|960",
                "u2|12000|960|0.000000960|2026-11-02 00:00:00+00|2026-11-02 23:00:40+00|960")
                .isEqualTo(rows(sums));
    }

    @Test
    void shouldDeriveTheDayFromItsHoursAndIgnoreADetailDayRecord() throws Exception {
        UsageWindowKey hour = Aggregates.key().org("acme").user("u1").hour(DAY.plusSeconds(10 * 3600)).build();
        UsageWindowKey day = Aggregates.key().org("acme").user("u1").day(DAY).build();
        write(batch(update(hour, totals(3, "0", 3)), update(day, totals(3, "0", 3))));
        write(batch(update(day, totals(9, "0", 9)))); // an aggregation v1 day record: the hours decide

        assertThat(rows("SELECT events, version FROM metering.usage_daily")).containsExactly("3|3");
    }

    @Test
    void shouldLeaveUsageDailyToWritersThatDoNotAskForTheDerivation() throws Exception {
        // imports and repairs write hour and day rows themselves, as before the derivation moved into the trigger
        try (Connection c = postgres.connect(database); Statement s = c.createStatement()) {
            s.execute("INSERT INTO metering.usage_hourly (org_id, user_id, feature, provider, model, window_start, events,"
                    + " quantity, input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at,"
                    + " last_event_at, updated_at, version) VALUES ('acme', 'u1', 'F', '', '', '2026-11-02 10:00Z', 4, 4, 0, 0,"
                    + " 0, 0, 0, '2026-11-02 10:00Z', '2026-11-02 10:00Z', now(), 4)");
        }
        assertThat(rows("SELECT count(*) FROM metering.usage_daily")).containsExactly("0");
        assertThat(rows("SELECT events FROM metering.usage_lifetime")).containsExactly("4");
    }

    @Test
    void shouldKeepConversationTotalsAndStartAnIdleConversationAfresh() throws Exception {
        UsageWindowKey c1 = Aggregates.key().org("acme").conversation("c-1").build();
        write(batch(update(c1, totals(7, "0", 7))));
        write(batch(update(c1, totals(6, "0", 6)))); // stale
        // the conversation expired upstream and started again after its last event: version 1 wins
        UsageWindowTotals again = Aggregates.totals().events(1).version(1)
                .between(Instant.parse("2026-12-20T00:00:00Z"), Instant.parse("2026-12-20T00:00:00Z")).build();
        assertThat(rows("SELECT conversation_id, feature, events, version FROM metering.conversation_usage"))
                .containsExactly("c-1|CHAT_MESSAGE|7|7");
        write(batch(update(c1, again)));
        assertThat(rows("SELECT conversation_id, events, version FROM metering.conversation_usage"))
                .containsExactly("c-1|1|1");
    }

    @Test
    void shouldUpdateAConversationInPlaceAsItsLastEventMoves() throws Exception {
        // HOT updates: last_event_at moves with every update, and no btree index may include it
        UsageWindowKey c1 = Aggregates.key().org("acme").conversation("c-1").build();
        try (Connection c = postgres.connect(database); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            UsageUpsert upsert = new UsageUpsert();
            for (int v = 1; v <= 5; v++) {
                upsert.upsert(c, UsageUpsert.Target.CONVERSATION, List.of(update(c1, Aggregates.totals().events(v).version(v)
                        .between(DAY, DAY.plusSeconds(60L * v)).build())), NOW.atOffset(ZoneOffset.UTC));
            }
            try (ResultSet rs = s.executeQuery("SELECT pg_stat_get_xact_tuples_updated(t.oid), "
                    + "pg_stat_get_xact_tuples_hot_updated(t.oid) FROM pg_class t WHERE t.oid = 'metering.conversation_usage'::regclass")) {
                rs.next();
                assertThat(rs.getLong(1) + "|" + rs.getLong(2)).isEqualTo("4|4");
            }
            c.commit();
        }
        assertThat(rows("SELECT events, last_event_at FROM metering.conversation_usage")).containsExactly(
                "5|2026-11-02 00:05:00+00");
    }

    @Test
    void shouldWriteEachCountedEventOnceIntoItsDaysPartition() throws Exception {
        PricedUsageEvent a = event("e-1", Instant.parse("2026-11-01T23:59:59.999Z"), 1_234_567L, "c-1");
        PricedUsageEvent b = event("e-2", Instant.parse("2026-11-02T00:00:00Z"), 5L, null);
        PricedUsageEvent quoted = event("e-3,\"x\"", Instant.parse("2026-11-02T08:00:00Z"), 0L, "a,b\"c");
        write(eventBatch(a, b, quoted));
        write(eventBatch(a, b)); // a replayed batch writes nothing twice

        assertThat(rows("SELECT event_id, occurred_at, conversation_id, user_id, cost_usd, priced, "
                + "(SELECT relname FROM pg_class WHERE oid = e.tableoid) FROM metering.usage_events e ORDER BY occurred_at")).containsExactly(
                "e-1|2026-11-01 23:59:59.999+00|c-1|u-1|0.001234567|t|usage_events_p20261101",
                "e-2|2026-11-02 00:00:00+00|null|u-1|0.000000005|t|usage_events_p20261102",
                "e-3,\"x\"|2026-11-02 08:00:00+00|a,b\"c|u-1|0.000000000|t|usage_events_p20261102");
    }

    @Test
    void shouldCreateComingPartitionsDropExpiredOnesAndDeleteIdleConversations() throws Exception {
        write(eventBatch(event("old", Instant.parse("2026-09-20T10:00:00Z"), 1L, null)));
        assertThat(rows("SELECT count(*) FROM metering.usage_events")).containsExactly("0"); // older than the retention
        write(eventBatch(event("kept", Instant.parse("2026-10-01T10:00:00Z"), 1L, null)));
        write(batch(update(Aggregates.key().org("acme").conversation("idle").build(), Aggregates.totals().events(1).version(1)
                        .between(Instant.parse("2026-10-01T00:00:00Z"), Instant.parse("2026-10-02T23:59:59Z")).build()),
                update(Aggregates.key().org("acme").conversation("active").build(), Aggregates.totals().events(1).version(1)
                        .between(Instant.parse("2026-10-04T00:00:00Z"), Instant.parse("2026-10-04T00:00:00Z")).build())));

        // 35 days after 2026-10-02: the 10-01 partition expires, the conversation idle since 10-02 too
        Instant later = Instant.parse("2026-11-06T12:00:00Z");
        SinkMaintenance maintenance = new SinkMaintenance(url, SinkWriter.connectionProperties(postgres.user(),
                postgres.password()), Clock.fixed(later, ZoneOffset.UTC), Duration.ofDays(34), eventLog, Duration.ofDays(35));
        maintenance.runOnce();

        assertThat(rows("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                + "WHERE i.inhparent = 'metering.usage_events'::regclass ORDER BY 1")).containsExactly(
                "usage_events_p20261105", "usage_events_p20261106", "usage_events_p20261107", "usage_events_p20261108");
        assertThat(rows("SELECT conversation_id FROM metering.conversation_usage")).containsExactly("active");
    }

    @Test
    void shouldFeedEachWrittenUserOrgAndConversationToTheChangeFeedAndKeepItAnHour() throws Exception {
        Instant h10 = DAY.plusSeconds(10 * 3600);
        write(batch(update(Aggregates.key().org("acme").user("u1").hour(h10).build(), Aggregates.totals().events(1).version(1).build()),
                update(Aggregates.key().org("acme").user("u2").hour(h10).build(), Aggregates.totals().events(1).version(1).build()),
                update(Aggregates.key().org("acme").orgGrain().hour(h10).build(), Aggregates.totals().events(2).version(1).build()),
                update(Aggregates.key().org("acme").orgGrain().day(DAY).build(), Aggregates.totals().events(2).version(1).build()),
                update(Aggregates.key().org("globex").conversation("c-1").build(), Aggregates.totals().events(1).version(1).build())));
        // a stale replay changes no row, so it names nothing
        write(batch(update(Aggregates.key().org("acme").user("u1").hour(h10).build(), Aggregates.totals().events(1).version(1).build())));

        assertThat(rows("SELECT conversations, o, s FROM metering.usage_changes, unnest(org_ids, subject_ids) AS x(o, s) "
                + "ORDER BY 1, 2, 3")).containsExactly("f|acme|", "f|acme|", "f|acme|u1", "f|acme|u2", "t|globex|c-1");
        // one upsert statement that updates u1 and inserts u3: a row for each kind of change
        write(batch(update(Aggregates.key().org("acme").user("u1").hour(h10).build(), Aggregates.totals().events(2).version(2).build()),
                update(Aggregates.key().org("acme").user("u3").hour(h10).build(), Aggregates.totals().events(1).version(1).build())));
        assertThat(rows("SELECT array_to_string(subject_ids, ',') FROM metering.usage_changes ORDER BY id DESC LIMIT 2"))
                .containsExactlyInAnyOrder("u1", "u3");

        rows("UPDATE metering.usage_changes SET written_at = now() - interval '61 minutes' WHERE conversations RETURNING id");
        new SinkMaintenance(url, SinkWriter.connectionProperties(postgres.user(), postgres.password()),
                Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofDays(30), null, Duration.ofDays(35)).runOnce();
        assertThat(rows("SELECT count(*) FROM metering.usage_changes WHERE conversations")).containsExactly("0");
        assertThat(rows("SELECT count(*) FROM metering.usage_changes WHERE NOT conversations")).containsExactly("5");
    }

    @Test
    void shouldWriteCacheWriteAndReasoningTokensToEveryUsageTableAndSumThemIntoTheDay() throws Exception {
        UsageWindowKey h10 = Aggregates.key().org("acme").user("u1").hour(DAY.plusSeconds(10 * 3600)).build();
        UsageWindowKey h11 = Aggregates.key().org("acme").user("u1").hour(DAY.plusSeconds(11 * 3600)).build();
        write(batch(update(h10, Aggregates.totals().events(2).tokens(0, 90, 0).cacheWrite(1000).reasoning(40).version(2).build()),
                update(h11, Aggregates.totals().events(1).tokens(0, 10, 0).cacheWrite(7).reasoning(3).version(1)
                        .between(DAY.plusSeconds(11 * 3600), DAY.plusSeconds(11 * 3600)).build()),
                update(Aggregates.key().org("acme").orgGrain().hour(DAY.plusSeconds(10 * 3600)).build(),
                        Aggregates.totals().events(2).cacheWrite(1000).reasoning(40).version(2).build()),
                update(Aggregates.key().org("acme").orgGrain().day(DAY).build(),
                        Aggregates.totals().events(3).cacheWrite(1007).reasoning(43).version(3).build()),
                update(Aggregates.key().org("acme").conversation("c-1").build(),
                        Aggregates.totals().events(3).cacheWrite(1007).reasoning(43).version(3).build())));
        // a stale replay keeps the newer counts
        write(batch(update(h10, Aggregates.totals().events(1).cacheWrite(1).reasoning(1).version(1).build())));

        assertThat(rows("SELECT window_start, output_tokens, cache_write_tokens, reasoning_tokens FROM metering.usage_hourly "
                + "ORDER BY window_start")).containsExactly(
                "2026-11-02 10:00:00+00|90|1000|40", "2026-11-02 11:00:00+00|10|7|3");
        assertThat(rows("SELECT events, output_tokens, cache_write_tokens, reasoning_tokens, version FROM metering.usage_daily"))
                .containsExactly("3|100|1007|43|3");
        assertThat(rows("SELECT cache_write_tokens, reasoning_tokens FROM metering.org_usage_hourly")).containsExactly("1000|40");
        assertThat(rows("SELECT cache_write_tokens, reasoning_tokens FROM metering.org_usage_daily")).containsExactly("1007|43");
        assertThat(rows("SELECT cache_write_tokens, reasoning_tokens FROM metering.conversation_usage")).containsExactly("1007|43");
        assertThat(rows("SELECT cache_write_tokens, reasoning_tokens FROM metering.usage_monthly")).containsExactly("1007|43");
    }

    @Test
    void shouldLogTheEventsNewCountsAndThePriceVersionItUsed() throws Exception {
        PricedUsageEvent tiered = PricedUsageEvent.newBuilder(event("e-1", Instant.parse("2026-11-02T08:00:00Z"), 3L, null))
                .setCacheWriteTokens(2000).setReasoningTokens(4).setServiceTier("batch").setPriceContextTier(200_000L)
                .setPriceServiceTier("batch").setEffectiveFrom(Instant.parse("2026-10-01T12:00:00Z")).build();
        PricedUsageEvent plain = event("e-2", Instant.parse("2026-11-02T09:00:00Z"), 1L, null); // written as before v2
        write(eventBatch(tiered, plain));

        assertThat(rows("SELECT event_id, cache_write_tokens, reasoning_tokens, service_tier, price_effective_from, "
                + "price_context_tier, price_service_tier FROM metering.usage_events ORDER BY occurred_at")).containsExactly(
                "e-1|2000|4|batch|2026-10-01 12:00:00+00|200000|batch",
                "e-2|0|0|null|null|null|null");
    }

    private void write(PreparedBatch batch) {
        writer.write(batch);
    }

    private static PreparedBatch batch(WindowUpdate... updates) {
        List<WindowUpdate> sorted = new ArrayList<>(List.of(updates));
        sorted.sort(RecordDecoder.KEY_ORDER);
        return new PreparedBatch(sorted, 0, List.of(), List.of(), Map.of(), updates.length);
    }

    private static PreparedBatch eventBatch(PricedUsageEvent... events) {
        return new PreparedBatch(List.of(), 0, List.of(), List.of(events), Map.of(), events.length);
    }

    private static WindowUpdate update(UsageWindowKey key, UsageWindowTotals totals) {
        return new WindowUpdate(key, totals, SOURCE, 0, NOW.toEpochMilli(), null, null);
    }

    /** events = quantity = version, cost in femto-USD, first/last event at the key's window start. */
    private static UsageWindowTotals totals(long events, String costFemtos, long version) {
        return Aggregates.totals().events(events).quantity(events).costFemtos(costFemtos).version(version).build();
    }

    private static PricedUsageEvent event(String id, Instant at, long costNanos, String conversation) {
        return PricedUsageEvent.newBuilder().setEventId(id).setOrgId("acme").setOccurredAt(at).setFeature("AI_COMPLETION")
                .setUserId("u-1").setConversationId(conversation).setProvider("openai").setModel("gpt-5").setSource(null)
                .setQuantity(1).setInputTokens(10).setOutputTokens(5).setCachedInputTokens(0).setCostNanos(costNanos)
                .setCostFemtos(BigDecimal.valueOf(costNanos).multiply(BigDecimal.valueOf(1_000_000))).setPriced(true)
                .setEffectiveFrom(null).setAttributes(Map.of()).build();
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
