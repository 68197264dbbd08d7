package dev.metering.sink;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink's housekeeping, every few minutes on a thread and connection of its own (idempotent,
 * so any number of sink instances may run it): deletes conversations idle for the conversation
 * TTL and the usage change feed older than an hour, and, with the event log on, creates the
 * event log's partitions for yesterday to two days ahead and drops whole partitions past the
 * retention (a DROP, never a row-by-row DELETE).
 * A failure is logged and tried again at the next run; it never stops the sink.
 */
final class SinkMaintenance implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SinkMaintenance.class);
    private static final DateTimeFormatter SUFFIX = DateTimeFormatter.ofPattern("yyyyMMdd");
    private static final int DELETE_CHUNK = 10_000;
    /** How long the usage change feed is kept; the API's alert detector reads it every second. */
    static final Duration CHANGES_KEPT = Duration.ofHours(1);

    private final String url;
    private final Properties properties;
    private final Clock clock;
    private final Duration conversationTtl;
    private final EventLogWriter eventLog;
    private final Duration retention;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "metering-sink-maintenance");
        t.setDaemon(true);
        return t;
    });

    /** {@code eventLog} null: the event log is off. */
    SinkMaintenance(String url, Properties properties, Clock clock, Duration conversationTtl, EventLogWriter eventLog,
            Duration retention) {
        this.url = url;
        this.properties = properties;
        this.clock = clock;
        this.conversationTtl = conversationTtl;
        this.eventLog = eventLog;
        this.retention = retention;
    }

    void start(Duration every) {
        timer.scheduleWithFixedDelay(this::runOnceLogged, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void runOnceLogged() {
        try {
            runOnce();
        } catch (SQLException | RuntimeException e) {
            log.warn("sink maintenance failed, tried again at the next run: {}", Failures.describe(e));
        }
    }

    /** One run; also called by tests. */
    void runOnce() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, properties)) {
            OffsetDateTime now = OffsetDateTime.now(clock);
            int conversations = deleteIdleConversations(c, now.minus(conversationTtl));
            if (conversations > 0) {
                log.info("deleted {} conversations idle since before {}", conversations, now.minus(conversationTtl));
            }
            int changes = deleteOldChanges(c);
            if (changes > 0) {
                log.debug("deleted {} usage change feed rows older than {}", changes, CHANGES_KEPT);
            }
            if (eventLog != null) {
                LocalDate today = now.toLocalDate();
                c.setAutoCommit(false);
                Set<LocalDate> created = eventLog.ensurePartitions(c, new TreeSet<>(List.of(today.minusDays(1), today,
                        today.plusDays(1), today.plusDays(2))));
                c.commit();
                c.setAutoCommit(true);
                eventLog.known(created);
                dropExpiredPartitions(c, EventLogWriter.day(now.toInstant().minus(retention)));
            }
        }
    }

    private static int deleteIdleConversations(Connection c, OffsetDateTime idleSince) throws SQLException {
        return deleteInChunks(c, "metering.conversation_usage", "last_event_at < ?", idleSince);
    }

    /**
     * Deletes the alert detector's usage change feed (V18) older than {@link #CHANGES_KEPT}: the
     * rows are stamped by the database, so their age is measured by its clock too.
     */
    private static int deleteOldChanges(Connection c) throws SQLException {
        return deleteInChunks(c, "metering.usage_changes", "written_at < now() - make_interval(secs => ?)",
                CHANGES_KEPT.toSeconds());
    }

    /** Deletes the rows of {@code table} matching {@code condition}, {@link #DELETE_CHUNK} a statement. */
    private static int deleteInChunks(Connection c, String table, String condition, Object parameter)
            throws SQLException {
        int total = 0;
        try (PreparedStatement s = c.prepareStatement("delete from " + table + " where ctid in (select ctid from "
                + table + " where " + condition + " limit " + DELETE_CHUNK + ")")) {
            s.setObject(1, parameter);
            int n;
            do {
                n = s.executeUpdate();
                total += n;
            } while (n == DELETE_CHUNK);
        }
        return total;
    }

    /** Drops the partitions of days before {@code oldestKept}. */
    private void dropExpiredPartitions(Connection c, LocalDate oldestKept) throws SQLException {
        List<String> partitions = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid "
                        + "where i.inhparent = 'metering.usage_events'::regclass")) {
            while (rs.next()) {
                partitions.add(rs.getString(1));
            }
        }
        for (String name : partitions) {
            if (!name.startsWith("usage_events_p") || name.length() != "usage_events_p".length() + 8) {
                continue; // not one of ours
            }
            LocalDate day = LocalDate.parse(name.substring("usage_events_p".length()), SUFFIX);
            if (day.isBefore(oldestKept)) {
                eventLog.forget(day);
                try (Statement s = c.createStatement()) {
                    s.execute("drop table if exists metering." + name);
                }
                log.info("event log: dropped partition {} (older than the retention {})", name, retention);
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
