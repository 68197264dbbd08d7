package dev.metering.sink;

import static dev.metering.db.jooq.Tables.DEAD_LETTERS;
import static dev.metering.db.jooq.Tables.LATE_EVENTS;
import static dev.metering.db.jooq.Tables.SINK_PROGRESS;

import dev.metering.avro.PricedUsageEvent;
import dev.metering.avro.UsageEvent;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a {@link PreparedBatch} to PostgreSQL: window totals, dead letters, late events and the
 * sink progress rows, all in ONE transaction, so the progress never claims rows that are not there.
 *
 * <p>Holds one connection, opened lazily and dropped after a connection failure; the next
 * attempt opens a new one. Not thread-safe: one thread at a time uses it, the sink's writer
 * thread for batches, the polling thread for the idle heartbeat (only while no batch is in flight;
 * the hand-off through a {@code Future} orders the two).
 */
final class SinkWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SinkWriter.class);
    private static final Settings SETTINGS = new Settings().withExecuteLogging(false);

    /** What a batch did to the database. */
    record Result(Map<UsageUpsert.Target, UsageUpsert.Outcome> usage, Map<String, Integer> deadLetters,
                  int lateEvents, int isolated, int eventsLogged) {

        int rowsWritten() {
            return usage.values().stream().mapToInt(UsageUpsert.Outcome::written).sum();
        }

        int staleIgnored() {
            return usage.values().stream().mapToInt(UsageUpsert.Outcome::stale).sum();
        }
    }

    private final String url;
    private final Properties properties;
    private final Clock clock;
    private final UsageUpsert upsert = new UsageUpsert();
    private final EventLogWriter eventLog;
    private Connection connection;

    SinkWriter(String url, String user, String password, Clock clock) {
        this(url, user, password, clock, null);
    }

    /** {@code eventLog} null: the event log is off. */
    SinkWriter(String url, String user, String password, Clock clock, EventLogWriter eventLog) {
        this.url = Objects.requireNonNull(url, "url");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.eventLog = eventLog;
        this.properties = connectionProperties(user, password);
    }

    /** The JDBC properties of the sink's connections. */
    static Properties connectionProperties(String user, String password) {
        Properties properties = new Properties();
        if (user != null) {
            properties.setProperty("user", user);
        }
        if (password != null) {
            properties.setProperty("password", password);
        }
        // fail fast while the server is away, so the retry loop (not a hung socket) decides
        properties.setProperty("connectTimeout", "5");
        properties.setProperty("socketTimeout", "300");
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("ApplicationName", "metering-sink");
        return properties;
    }

    /** The whole batch in one transaction. Throws on any failure; nothing of the batch is then kept. */
    Result write(PreparedBatch batch) {
        Result result = inTransaction(tx -> {
            OffsetDateTime now = OffsetDateTime.now(clock);
            Map<UsageUpsert.Target, UsageUpsert.Outcome> usage = writeUsage(tx, batch.updates(), now);
            int logged = writeEvents(tx, batch.events(), now);
            Map<String, Integer> deadLetters = new HashMap<>();
            int late = 0;
            for (DeadLetterRow deadLetter : batch.deadLetters()) {
                if (insertDeadLetter(tx, deadLetter, now)) {
                    deadLetters.merge(deadLetter.reason(), 1, Integer::sum);
                }
                if (deadLetter.late() && insertLateEvent(tx, deadLetter, now)) {
                    late++;
                }
            }
            writeProgress(tx, batch.progress(), now);
            return new Result(usage, deadLetters, late, 0, logged);
        });
        if (eventLog != null) {
            eventLog.committed();
        }
        return result;
    }

    private int writeEvents(DSLContext tx, List<PricedUsageEvent> events, OffsetDateTime now) {
        if (eventLog == null || events.isEmpty()) {
            return 0;
        }
        return tx.connectionResult(c -> eventLog.write(c, events, now));
    }

    /**
     * The batch record by record, each in its own transaction, after the whole batch failed for a
     * reason that is not transient. A window update the database refuses (e.g. a value out of
     * range) becomes a dead letter with the database's reason; a dead letter the database refuses
     * is logged and skipped. The progress rows go last. Transient failures still throw: the
     * caller retries, and re-writing what already went in changes nothing (monotonic upsert,
     * ON CONFLICT DO NOTHING).
     */
    Result writeIsolating(PreparedBatch batch) {
        Map<UsageUpsert.Target, UsageUpsert.Outcome> usage = new EnumMap<>(UsageUpsert.Target.class);
        Map<String, Integer> deadLetterCounts = new HashMap<>();
        List<DeadLetterRow> deadLetters = new ArrayList<>(batch.deadLetters());
        int late = 0;
        int isolated = 0;
        for (WindowUpdate update : batch.updates()) {
            try {
                Map<UsageUpsert.Target, UsageUpsert.Outcome> one =
                        inTransaction(tx -> writeUsage(tx, List.of(update), OffsetDateTime.now(clock)));
                one.forEach((t, o) -> usage.merge(t, o, UsageUpsert.Outcome::plus));
            } catch (RuntimeException e) {
                if (Failures.isTransient(e)) {
                    throw e;
                }
                isolated++;
                String reason = Failures.describe(e);
                log.error("window update {}-{}@{} can never be written ({}); dead-lettering it",
                        update.source().topic(), update.source().partition(), update.offset(), reason);
                deadLetters.add(new DeadLetterRow("INVALID", "sink could not write this aggregate: " + reason,
                        RecordDecoder.STAGE, update.source().topic(), update.source().partition(), update.offset(),
                        update.recordTimestamp() < 0 ? null : java.time.Instant.ofEpochMilli(update.recordTimestamp()),
                        update.rawKey(), update.rawValue(), false, null));
            }
        }
        for (DeadLetterRow deadLetter : deadLetters) {
            try {
                boolean[] inserted = new boolean[2];
                inTransaction(tx -> {
                    OffsetDateTime now = OffsetDateTime.now(clock);
                    inserted[0] = insertDeadLetter(tx, deadLetter, now);
                    inserted[1] = deadLetter.late() && insertLateEvent(tx, deadLetter, now);
                    return null;
                });
                if (inserted[0]) {
                    deadLetterCounts.merge(deadLetter.reason(), 1, Integer::sum);
                }
                if (inserted[1]) {
                    late++;
                }
            } catch (RuntimeException e) {
                if (Failures.isTransient(e)) {
                    throw e;
                }
                log.error("dead letter {}-{}@{} can never be written ({}); skipped", deadLetter.topic(),
                        deadLetter.partition(), deadLetter.offset(), Failures.describe(e));
            }
        }
        // the events were validated upstream and are written by COPY: one transaction for all of them
        int logged = inTransaction(tx -> writeEvents(tx, batch.events(), OffsetDateTime.now(clock)));
        if (eventLog != null) {
            eventLog.committed();
        }
        inTransaction(tx -> {
            writeProgress(tx, batch.progress(), OffsetDateTime.now(clock));
            return null;
        });
        return new Result(usage, deadLetterCounts, late, isolated, logged);
    }

    private Map<UsageUpsert.Target, UsageUpsert.Outcome> writeUsage(DSLContext tx, List<WindowUpdate> updates,
                                                                    OffsetDateTime now) {
        Map<UsageUpsert.Target, UsageUpsert.Outcome> outcomes = new EnumMap<>(UsageUpsert.Target.class);
        Map<UsageUpsert.Target, List<WindowUpdate>> byTarget = UsageUpsert.byTarget(updates);
        // usage_daily is derived from the hour rows only: a day record (aggregation v1) would count them twice
        List<WindowUpdate> days = byTarget.remove(UsageUpsert.Target.DETAIL_DAY);
        if (days != null) {
            outcomes.put(UsageUpsert.Target.DETAIL_DAY, new UsageUpsert.Outcome(0, days.size(), 0));
        }
        if (byTarget.containsKey(UsageUpsert.Target.DETAIL_HOUR)) {
            // the hour table's trigger adds each hour's change to its day row (V16), in this transaction only
            tx.connection(c -> {
                try (Statement s = c.createStatement()) {
                    s.execute(DERIVE_DAILY);
                }
            });
        }
        byTarget.forEach((target, rows) -> tx.connection(c -> {
            long start = System.nanoTime();
            UsageUpsert.Outcome done = upsert.upsert(c, target, rows, now);
            outcomes.put(target, new UsageUpsert.Outcome(done.written(), done.stale(), done.statements(),
                    System.nanoTime() - start));
        }));
        return outcomes;
    }

    /** Turns on, for the current transaction only, the derivation of usage_daily by usage_hourly's trigger. */
    static final String DERIVE_DAILY = "select set_config('metering.derive_daily', 'on', true)";

    private static boolean insertDeadLetter(DSLContext tx, DeadLetterRow d, OffsetDateTime now) {
        return tx.insertInto(DEAD_LETTERS)
                .set(DEAD_LETTERS.REASON, text(d.reason()))
                .set(DEAD_LETTERS.MESSAGE, text(d.message()))
                .set(DEAD_LETTERS.STAGE, text(d.stage()))
                .set(DEAD_LETTERS.TOPIC, text(d.topic()))
                .set(DEAD_LETTERS.KAFKA_PARTITION, d.partition())
                .set(DEAD_LETTERS.KAFKA_OFFSET, d.offset())
                .set(DEAD_LETTERS.RECORD_TIMESTAMP, UsageUpsert.utc(d.recordTimestamp()))
                .set(DEAD_LETTERS.RECORD_KEY, d.key())
                .set(DEAD_LETTERS.PAYLOAD, d.payload())
                .set(DEAD_LETTERS.ORG_ID, d.event() == null ? null : text(d.event().getOrgId()))
                .set(DEAD_LETTERS.EVENT_ID, d.event() == null ? null : text(d.event().getEventId()))
                .set(DEAD_LETTERS.RECEIVED_AT, now)
                .onConflictDoNothing()
                .execute() == 1;
    }

    private static boolean insertLateEvent(DSLContext tx, DeadLetterRow d, OffsetDateTime now) {
        UsageEvent e = d.event();
        return tx.insertInto(LATE_EVENTS)
                .set(LATE_EVENTS.TOPIC, text(d.topic()))
                .set(LATE_EVENTS.KAFKA_PARTITION, d.partition())
                .set(LATE_EVENTS.KAFKA_OFFSET, d.offset())
                .set(LATE_EVENTS.EVENT_ID, e == null ? null : text(e.getEventId()))
                .set(LATE_EVENTS.ORG_ID, e == null ? null : text(e.getOrgId()))
                .set(LATE_EVENTS.OCCURRED_AT, e == null ? null : UsageUpsert.utc(e.getOccurredAt()))
                .set(LATE_EVENTS.FEATURE, e == null ? null : text(e.getFeature()))
                .set(LATE_EVENTS.USER_ID, e == null ? null : text(e.getUserId()))
                .set(LATE_EVENTS.CONVERSATION_ID, e == null ? null : text(e.getConversationId()))
                .set(LATE_EVENTS.PROVIDER, e == null ? null : text(e.getProvider()))
                .set(LATE_EVENTS.MODEL, e == null ? null : text(e.getModel()))
                .set(LATE_EVENTS.SOURCE, e == null ? null : text(e.getSource()))
                .set(LATE_EVENTS.QUANTITY, e == null ? null : e.getQuantity())
                .set(LATE_EVENTS.INPUT_TOKENS, e == null ? null : e.getInputTokens())
                .set(LATE_EVENTS.OUTPUT_TOKENS, e == null ? null : e.getOutputTokens())
                .set(LATE_EVENTS.CACHED_INPUT_TOKENS, e == null ? null : e.getCachedInputTokens())
                .set(LATE_EVENTS.COST_USD, e == null || e.getCostNanos() == null
                        ? null : BigDecimal.valueOf(e.getCostNanos(), WindowUpdate.COST_SCALE))
                .set(LATE_EVENTS.RECEIVED_AT, now)
                .onConflictDoNothing()
                .execute() == 1;
    }

    /**
     * The sink is caught up on these partitions: everything it had been given up to {@code positions}
     * is in the database (its batch is empty and each position equals the partition's end offset).
     * Records that in {@code sink_progress} as of {@code now}, in one statement of its own:
     * {@code written_at} and {@code next_offset} only move forward (GREATEST), {@code newest_event_at}
     * is left as it is (NULL for a partition never written). See the README, "Heartbeat".
     */
    void heartbeat(Map<TopicPartition, Long> positions, OffsetDateTime now) {
        if (positions.isEmpty()) {
            return;
        }
        inTransaction(tx -> {
            var insert = tx.insertInto(SINK_PROGRESS, SINK_PROGRESS.TOPIC, SINK_PROGRESS.KAFKA_PARTITION,
                    SINK_PROGRESS.NEXT_OFFSET, SINK_PROGRESS.NEWEST_EVENT_AT, SINK_PROGRESS.WRITTEN_AT);
            List<Map.Entry<TopicPartition, Long>> rows = new ArrayList<>(positions.entrySet());
            rows.sort(Map.Entry.comparingByKey(java.util.Comparator.comparing(TopicPartition::topic)
                    .thenComparingInt(TopicPartition::partition)));
            for (Map.Entry<TopicPartition, Long> row : rows) {
                insert = insert.values(row.getKey().topic(), row.getKey().partition(), row.getValue(),
                        (OffsetDateTime) null, now);
            }
            return insert.onConflict(SINK_PROGRESS.TOPIC, SINK_PROGRESS.KAFKA_PARTITION)
                    .doUpdate()
                    .set(SINK_PROGRESS.NEXT_OFFSET,
                            DSL.greatest(SINK_PROGRESS.NEXT_OFFSET, DSL.excluded(SINK_PROGRESS.NEXT_OFFSET)))
                    .set(SINK_PROGRESS.WRITTEN_AT,
                            DSL.greatest(SINK_PROGRESS.WRITTEN_AT, DSL.excluded(SINK_PROGRESS.WRITTEN_AT)))
                    .execute();
        });
    }

    /**
     * Records the pipeline's progress ({@link PipelineWatch}) in one transaction: {@code usage_as_of}
     * of these partitions and {@code streams_as_of} of every partition in {@code owned}. Only rows the
     * batches or the heartbeat created are updated (this never invents {@code next_offset} or
     * {@code written_at}); both values only move forward (GREATEST), so an instance that lost a
     * partition, or runs behind, never moves them back.
     *
     * @return the partitions whose {@code usage_as_of} was recorded (those that have a row)
     */
    Set<TopicPartition> pipelineProgress(String topic, Map<TopicPartition, Instant> usageAsOf, Instant streamsAsOf,
                                         Set<TopicPartition> owned) {
        return inTransaction(tx -> {
            Set<TopicPartition> updated = new java.util.HashSet<>();
            List<Map.Entry<TopicPartition, Instant>> rows = new ArrayList<>(usageAsOf.entrySet());
            rows.sort(Map.Entry.comparingByKey(java.util.Comparator.comparingInt(TopicPartition::partition)));
            for (Map.Entry<TopicPartition, Instant> row : rows) {
                int n = tx.update(SINK_PROGRESS)
                        .set(SINK_PROGRESS.USAGE_AS_OF, DSL.greatest(SINK_PROGRESS.USAGE_AS_OF,
                                DSL.val(OffsetDateTime.ofInstant(row.getValue(), ZoneOffset.UTC))))
                        .where(SINK_PROGRESS.TOPIC.eq(topic))
                        .and(SINK_PROGRESS.KAFKA_PARTITION.eq(row.getKey().partition()))
                        .execute();
                if (n == 1) {
                    updated.add(row.getKey());
                }
            }
            if (streamsAsOf != null && !owned.isEmpty()) {
                tx.update(SINK_PROGRESS)
                        .set(SINK_PROGRESS.STREAMS_AS_OF, DSL.greatest(SINK_PROGRESS.STREAMS_AS_OF,
                                DSL.val(OffsetDateTime.ofInstant(streamsAsOf, ZoneOffset.UTC))))
                        .where(SINK_PROGRESS.TOPIC.eq(topic))
                        .and(SINK_PROGRESS.KAFKA_PARTITION.in(owned.stream().map(TopicPartition::partition).toList()))
                        .execute();
            }
            return updated;
        });
    }

    /**
     * One multi-row upsert for all partitions of the batch. newest_event_at never goes back
     * (GREATEST ignores NULL), nor does written_at (a heartbeat or another instance's clock may
     * be ahead); next_offset is where this batch ends.
     */
    private static void writeProgress(DSLContext tx, Map<TopicPartition, PreparedBatch.Progress> progress,
                                      OffsetDateTime now) {
        if (progress.isEmpty()) {
            return;
        }
        var insert = tx.insertInto(SINK_PROGRESS, SINK_PROGRESS.TOPIC, SINK_PROGRESS.KAFKA_PARTITION,
                SINK_PROGRESS.NEXT_OFFSET, SINK_PROGRESS.NEWEST_EVENT_AT, SINK_PROGRESS.WRITTEN_AT);
        List<Map.Entry<TopicPartition, PreparedBatch.Progress>> rows = new ArrayList<>(progress.entrySet());
        rows.sort(Map.Entry.comparingByKey(java.util.Comparator.comparing(TopicPartition::topic)
                .thenComparingInt(TopicPartition::partition)));
        for (Map.Entry<TopicPartition, PreparedBatch.Progress> row : rows) {
            insert = insert.values(row.getKey().topic(), row.getKey().partition(), row.getValue().nextOffset(),
                    UsageUpsert.utc(row.getValue().newestEventAt()), now);
        }
        insert.onConflict(SINK_PROGRESS.TOPIC, SINK_PROGRESS.KAFKA_PARTITION)
                .doUpdate()
                .set(SINK_PROGRESS.NEXT_OFFSET, DSL.excluded(SINK_PROGRESS.NEXT_OFFSET))
                .set(SINK_PROGRESS.NEWEST_EVENT_AT,
                        DSL.greatest(SINK_PROGRESS.NEWEST_EVENT_AT, DSL.excluded(SINK_PROGRESS.NEWEST_EVENT_AT)))
                .set(SINK_PROGRESS.WRITTEN_AT,
                        DSL.greatest(SINK_PROGRESS.WRITTEN_AT, DSL.excluded(SINK_PROGRESS.WRITTEN_AT)))
                .execute();
    }

    /** PostgreSQL text cannot hold NUL; a refused record's message must still be storable. */
    private static String text(String value) {
        return value == null || value.indexOf('\0') < 0 ? value : value.replace("\0", "\\0");
    }

    /** {@code work} gets the transaction's own DSLContext: inside it, nothing else is used. */
    private <T> T inTransaction(java.util.function.Function<DSLContext, T> work) {
        try {
            return DSL.using(connection(), SQLDialect.POSTGRES, SETTINGS)
                    .transactionResult(configuration -> work.apply(configuration.dsl()));
        } catch (SQLException e) {
            reset();
            throw new TransientException("cannot connect to PostgreSQL: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (Failures.isTransient(e)) {
                reset();
            }
            throw e;
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = DriverManager.getConnection(url, properties);
        }
        return connection;
    }

    private void reset() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // the connection is already broken; a new one is opened on the next attempt
            }
            connection = null;
        }
    }

    @Override
    public void close() {
        reset();
    }
}
