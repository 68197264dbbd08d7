package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.avro.UsageEvent;
import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.devstack.MutableClock;
import dev.metering.events.DeadLetterHeaders;
import dev.metering.events.serde.AvroSerdes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** The sink on the real broker, registry and PostgreSQL. */
class SinkIT {

    private static final Instant T0 = Instant.parse("2026-11-02T10:00:00Z");
    private static final Instant DAY = Instant.parse("2026-11-02T00:00:00Z");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private SinkItSupport it;
    private final List<SinkApp.RunningSink> sinks = new ArrayList<>();

    @BeforeEach
    void world(TestInfo test) throws Exception {
        it = new SinkItSupport(test.getTestMethod().orElseThrow().getName().replaceAll("[^A-Za-z]", "").substring(6, 26));
    }

    @AfterEach
    void stop() {
        sinks.forEach(SinkApp.RunningSink::close);
        it.close();
    }

    @Test
    void shouldLeaveAnIdenticalTableWhenTheSameAggregatesArriveTwice() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-02T12:00:00Z"));
        sinks.add(it.startSink(clock, SinkLoop.Hooks.NONE));
        Map<UsageWindowKey, UsageWindowTotals> aggregates = tenOrgsInFourTables(3);
        aggregates.forEach(it::send);
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);
        List<String> first = it.usageSnapshot();

        clock.advance(Duration.ofHours(1));
        aggregates.forEach(it::send);
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        assertThat(first).hasSize(40);
        assertThat(it.usageSnapshot()).isEqualTo(first);
        assertThat(it.rows("SELECT sum(events), sum(cost_usd), count(*) FROM metering.org_usage_daily"))
                .containsExactly("30|0.000000030|10");
    }

    @Test
    void shouldStopCleanlyWhenClosedAndContinueWhereItStopped() throws Exception {
        SinkApp.RunningSink first = it.startSink();
        tenOrgsInFourTables(2).forEach(it::send);
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        first.close();
        tenOrgsInFourTables(5).forEach(it::send);
        it.flush();
        SinkApp.RunningSink second = it.startSink();
        sinks.add(second);
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        assertThat(first.isRunning()).isFalse();
        assertThat(first.failure()).isNull();
        assertThat(it.rows("SELECT count(*), sum(events), min(version) FROM metering.org_usage_hourly"))
                .containsExactly("10|50|5");
        assertThat(metrics(second)).contains("metering_sink_records_total{topic=\"" + it.topics.aggregates()
                + "\"} 40.0").contains("metering_sink_consumer_lag{partition=\"0\",topic=\""
                + it.topics.aggregates() + "\"} 0.0");
    }

    @Test
    void shouldKeepTheNewestVersionWhenVersionsArriveOutOfOrder() throws Exception {
        SinkApp.RunningSink sink = it.startSink();
        sinks.add(sink);
        UsageWindowKey key = Aggregates.key().org("acme").user("u1").hour(T0).build();
        it.send(key, Aggregates.totals().events(5).costFemtos("5000000").version(5).build());
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        // older versions arrive later (a replay, a slow partition): the guard keeps version 5
        it.send(key, Aggregates.totals().events(3).costFemtos("3000000").version(3).build());
        it.send(key, Aggregates.totals().events(4).costFemtos("4000000").version(4).build());
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        assertThat(it.rows("SELECT events, cost_usd, version FROM metering.usage_hourly"))
                .containsExactly("5|0.000000005|5");
        assertThat(metrics(sink)).contains("metering_sink_stale_updates_ignored_total{table=\"usage_hourly\"} 1.0");
    }

    @Test
    void shouldGiveExactTotalsAfterACrashBetweenDatabaseCommitAndOffsetCommit() throws Exception {
        AtomicInteger batches = new AtomicInteger();
        SinkApp.RunningSink crashing = it.startSink(java.time.Clock.systemUTC(), new SinkLoop.Hooks() {
            @Override
            public void afterDatabaseCommit(PreparedBatch batch) {
                batches.incrementAndGet();
                throw new IllegalStateException("simulated crash: the process dies before committing offsets");
            }
        });
        sinks.add(crashing);
        Map<UsageWindowKey, UsageWindowTotals> aggregates = tenOrgsInFourTables(7);
        aggregates.forEach(it::send);
        it.flush();
        await().atMost(TIMEOUT).until(() -> !crashing.isRunning());
        assertThat(crashing.failure()).hasMessageContaining("simulated crash");
        assertThat(it.committedOffsets()).isEmpty();
        assertThat(it.rows("SELECT count(*) FROM metering.usage_hourly")).isNotEqualTo(List.of("0"));

        sinks.add(it.startSink());
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        assertThat(batches).hasValue(1);
        assertThat(it.rows("SELECT count(*), sum(events), sum(cost_usd) FROM metering.usage_hourly"))
                .containsExactly("10|70|0.000000070");
        assertThat(it.rows("SELECT count(*), sum(events), sum(cost_usd) FROM metering.org_usage_daily"))
                .containsExactly("10|70|0.000000070");
    }

    @Test
    void shouldCommitEachBatchOnlyAfterItsTransactionWhileTheNextIsPolledAndDecoded() throws Exception {
        // a backlog of 3000 updates (1000 keys x versions 1..3) before the sink starts: batches are
        // full (200 records), so the next one is polled and decoded while the writer writes one
        for (int version = 1; version <= 3; version++) {
            for (int k = 0; k < 1000; k++) {
                it.send(Aggregates.key().org(String.format("org-%04d", k)).hour(T0).build(),
                        Aggregates.totals().events(version).costFemtos(version + "000000").version(version).build());
            }
        }
        it.flush();
        List<Integer> batchRecords = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Long> committedBefore = new java.util.concurrent.CopyOnWriteArrayList<>();
        SinkApp.RunningSink sink = it.startSink(java.time.Clock.systemUTC(), new SinkLoop.Hooks() {
            @Override
            public void afterDatabaseCommit(PreparedBatch batch) {
                try {
                    // between the database commit and the offset commit of this batch
                    committedBefore.add(it.committedOffsets().values().stream().mapToLong(o -> o.offset()).sum());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                batchRecords.add(batch.records());
            }
        });
        sinks.add(sink);
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        assertThat(batchRecords.stream().mapToInt(Integer::intValue).sum()).isEqualTo(3000);
        assertThat(batchRecords).allSatisfy(n -> assertThat(n).isBetween(1, 200));
        // when batch i is in the database, exactly the records of batches 0..i-1 are committed
        long before = 0;
        for (int i = 0; i < batchRecords.size(); i++) {
            assertThat(committedBefore.get(i)).as("offsets committed before batch %d", i).isEqualTo(before);
            before += batchRecords.get(i);
        }
        assertThat(it.rows("SELECT count(*), sum(events), sum(cost_usd), min(version) FROM metering.usage_hourly"))
                .containsExactly("1000|3000|0.000003000|3");
    }

    @Test
    void shouldLoseNothingWhenPostgresIsDownForTwentySeconds() throws Exception {
        SinkApp.RunningSink sink = it.startSink();
        sinks.add(sink);
        Map<UsageWindowKey, UsageWindowTotals> latest = new LinkedHashMap<>();
        int version = 1;
        version = sendRound(latest, version);
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        try {
            it.postgres.stop();
            long outageEnd = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < outageEnd) {
                // aggregates keep arriving during the outage: one new version of every key per round,
                // paced like a live stream (this is traffic, not a wait for some state)
                version = sendRound(latest, version);
                it.flush();
                java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(250).toNanos());
            }
            assertThat(sink.isRunning()).isTrue();
        } finally {
            it.postgres.start();
        }

        await().atMost(TIMEOUT).until(it::everythingCommitted);
        long expectedEvents = latest.values().stream().mapToLong(UsageWindowTotals::getEvents).sum();
        assertThat(sink.isRunning()).isTrue();
        assertThat(it.rows("SELECT count(*), sum(events), min(version), max(version) FROM metering.usage_hourly"))
                .containsExactly("5|" + expectedEvents + "|" + (version - 1) + "|" + (version - 1));
        assertThat(metrics(sink)).containsPattern("metering_sink_retries_total\\{kind=\"transient\"} [1-9]");
    }

    @Test
    void shouldDeadLetterAnAggregateTheDatabaseCanNeverStoreAndGoOn() throws Exception {
        sinks.add(it.startSink());
        UsageWindowKey good = Aggregates.key().org("acme").hour(T0).build();
        UsageWindowKey poison = Aggregates.key().org("poison").hour(T0).build();
        it.send(good, Aggregates.totals().events(2).costFemtos("2000000").version(2).build());
        // 10^37 femto-USD = 10^22 USD: beyond numeric(24,9), PostgreSQL refuses it for good (22003)
        it.send(poison, Aggregates.totals().events(1).costFemtos("1" + "0".repeat(37)).version(1).build());
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        it.send(good, Aggregates.totals().events(3).costFemtos("3000000").version(3).build());
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        assertThat(it.rows("SELECT org_id, events, cost_usd FROM metering.usage_hourly"))
                .containsExactly("acme|3|0.000000003");
        assertThat(it.rows("SELECT reason, stage, topic, message LIKE '%numeric field overflow%(SQLState 22003)',"
                + " payload IS NOT NULL FROM metering.dead_letters"))
                .containsExactly("INVALID|sink|" + it.topics.aggregates() + "|t|t");
    }

    @Test
    void shouldStoreDeadLettersOnceAndLateEventsDecoded() throws Exception {
        sinks.add(it.startSink());
        UsageEvent late = UsageEvent.newBuilder().setEventId("e-late").setOrgId("acme")
                .setOccurredAt(Instant.parse("2026-10-28T09:00:00Z")).setFeature("AI_COMPLETION")
                .setUserId("u1").setProvider("openai").setModel("gpt-4o").setInputTokens(120).setOutputTokens(30)
                .setCostNanos(1_500L).build();
        byte[] latePayload = AvroSerdes.specific(UsageEvent.class, it.registry, it.clientProperties, false)
                .serializer().serialize(it.topics.events(), late);
        UsageEvent invalid = UsageEvent.newBuilder(late).setEventId("e-invalid").setQuantity(-3).build();
        byte[] invalidPayload = AvroSerdes.specific(UsageEvent.class, it.registry, it.clientProperties, false)
                .serializer().serialize(it.topics.events(), invalid);
        for (int delivery = 0; delivery < 2; delivery++) {
            // the same four refusals delivered twice (a DLQ replay): stored once
            it.sendRaw(deadLetter("LATE", 11, latePayload));
            it.sendRaw(deadLetter("MALFORMED", 12, new byte[] {0x7f, 0, 1}));
            it.sendRaw(deadLetter("INVALID", 13, "{\"orgId\":\"\"}".getBytes(StandardCharsets.UTF_8)));
            it.sendRaw(deadLetter("INVALID", 14, invalidPayload));
        }
        it.flush();
        await().atMost(TIMEOUT).until(it::everythingCommitted);

        assertThat(it.rows("SELECT reason, stage, topic, kafka_partition, kafka_offset, record_timestamp,"
                + " length(payload) FROM metering.dead_letters ORDER BY kafka_offset")).containsExactly(
                "LATE|aggregate|" + it.topics.events() + "|4|11|2026-10-28 09:00:00+00|" + latePayload.length,
                "MALFORMED|aggregate|" + it.topics.events() + "|4|12|2026-10-28 09:00:00+00|3",
                "INVALID|aggregate|" + it.topics.events() + "|4|13|2026-10-28 09:00:00+00|12",
                "INVALID|aggregate|" + it.topics.events() + "|4|14|2026-10-28 09:00:00+00|" + invalidPayload.length);
        // the events that decode are findable by (org, eventId): GET /api/v1/usage/{orgId}/events/{eventId}
        assertThat(it.rows("SELECT kafka_offset, org_id, event_id FROM metering.dead_letters ORDER BY kafka_offset"))
                .containsExactly("11|acme|e-late", "12|null|null", "13|null|null", "14|acme|e-invalid");
        assertThat(it.rows("SELECT event_id, org_id, occurred_at, feature, user_id, provider, model, input_tokens,"
                + " output_tokens, cost_usd, kafka_offset FROM metering.late_events")).containsExactly(
                "e-late|acme|2026-10-28 09:00:00+00|AI_COMPLETION|u1|openai|gpt-4o|120|30|0.000001500|11");
    }

    private ProducerRecord<byte[], byte[]> deadLetter(String reason, long originalOffset, byte[] payload) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetterHeaders.REASON, bytes(reason));
        headers.add(DeadLetterHeaders.MESSAGE, bytes(reason.toLowerCase() + " record"));
        headers.add(DeadLetterHeaders.STAGE, bytes("aggregate"));
        headers.add(DeadLetterHeaders.ORIGINAL_TOPIC, bytes(it.topics.events()));
        headers.add(DeadLetterHeaders.ORIGINAL_PARTITION, bytes("4"));
        headers.add(DeadLetterHeaders.ORIGINAL_OFFSET, bytes(Long.toString(originalOffset)));
        headers.add(DeadLetterHeaders.ORIGINAL_TIMESTAMP, bytes(Long.toString(
                Instant.parse("2026-10-28T09:00:00Z").toEpochMilli())));
        return new ProducerRecord<>(it.topics.deadLetters(), null, bytes("acme"), payload, headers);
    }

    /** Ten orgs, each with a detail and an org-grain row per hour and day: 40 rows, {@code events} each. */
    private static Map<UsageWindowKey, UsageWindowTotals> tenOrgsInFourTables(long events) {
        Map<UsageWindowKey, UsageWindowTotals> aggregates = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            String org = "org-" + i;
            UsageWindowTotals totals = Aggregates.totals().events(events).tokens(100 * events, 10 * events, 0)
                    .costFemtos(Long.toString(1_000_000L * events)).version(events).build();
            aggregates.put(Aggregates.key().org(org).user("u1").model("openai", "gpt-4o").hour(T0).build(), totals);
            aggregates.put(Aggregates.key().org(org).user("u1").model("openai", "gpt-4o").day(DAY).build(), totals);
            aggregates.put(Aggregates.key().org(org).orgGrain().hour(T0).build(), totals);
            aggregates.put(Aggregates.key().org(org).orgGrain().day(DAY).build(), totals);
        }
        return aggregates;
    }

    /** One new version of five hourly keys; returns the next version. */
    private int sendRound(Map<UsageWindowKey, UsageWindowTotals> latest, int version) {
        for (int i = 0; i < 5; i++) {
            UsageWindowKey key = Aggregates.key().org("org-" + i).hour(T0).build();
            UsageWindowTotals totals = Aggregates.totals().events(version * 10L + i).version(version).build();
            latest.put(key, totals);
            it.send(key, totals);
        }
        return version + 1;
    }

    private static String metrics(SinkApp.RunningSink sink) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + sink.metricsPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
