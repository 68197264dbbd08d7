package dev.metering.sink;

import dev.metering.avro.PricedUsageEvent;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.postgresql.PGConnection;

/**
 * Writes counted events to {@code usage_events} (the event log, partitioned by UTC day): the
 * batch goes by {@code COPY} into a transaction-local staging table, then into the log with
 * {@code ON CONFLICT DO NOTHING}, so a re-delivered batch writes nothing twice. A day's partition
 * is created before its first row (under an advisory lock, so two sinks never race on it);
 * {@link SinkMaintenance} creates the coming days' ahead of time and drops expired ones.
 */
final class EventLogWriter {

    static final String TABLE = "metering.usage_events";
    private static final DateTimeFormatter SUFFIX = DateTimeFormatter.ofPattern("yyyyMMdd");
    /** Serializes partition creation across sink instances (any constant shared by them). */
    private static final long PARTITION_LOCK = 0x6d65746572696e67L;
    private static final String STAGE = "usage_events_stage";
    private static final String COLUMNS = "event_id, org_id, occurred_at, feature, user_id, conversation_id, provider, model, "
            + "source, quantity, input_tokens, output_tokens, cached_input_tokens, cost_usd, priced, price_effective_from, "
            + "recorded_at, cache_write_tokens, reasoning_tokens, service_tier, price_context_tier, price_service_tier, cost_femtos";

    private final java.time.Duration retention;
    /** Days whose partition is known to exist, created by a committed transaction or found existing. */
    private final Set<LocalDate> knownDays = ConcurrentHashMap.newKeySet();
    /** Days whose partition the current transaction creates: known once it commits. */
    private final Set<LocalDate> creating = new TreeSet<>();

    EventLogWriter(java.time.Duration retention) {
        this.retention = retention;
    }

    /**
     * Writes {@code events} in the caller's transaction; returns how many were new. Events of days
     * already past the retention are not written (their partitions are dropped).
     */
    int write(Connection c, List<PricedUsageEvent> events, OffsetDateTime now) throws SQLException {
        creating.clear();
        LocalDate oldestKept = day(now.toInstant().minus(retention));
        events = events.stream().filter(e -> !day(e.getOccurredAt()).isBefore(oldestKept)).toList();
        if (events.isEmpty()) {
            return 0;
        }
        TreeSet<LocalDate> days = new TreeSet<>();
        events.forEach(e -> days.add(day(e.getOccurredAt())));
        creating.addAll(ensurePartitions(c, days));
        try (Statement s = c.createStatement()) {
            s.execute("create temp table if not exists " + STAGE + " (like " + TABLE + ") on commit delete rows");
        }
        StringBuilder csv = new StringBuilder(events.size() * 200);
        String recordedAt = now.toInstant().toString();
        for (PricedUsageEvent e : events) {
            text(csv, e.getEventId()).append(',');
            text(csv, e.getOrgId()).append(',');
            csv.append(e.getOccurredAt()).append(',');
            text(csv, e.getFeature()).append(',');
            text(csv, e.getUserId()).append(',');
            text(csv, e.getConversationId()).append(',');
            text(csv, e.getProvider()).append(',');
            text(csv, e.getModel()).append(',');
            text(csv, e.getSource()).append(',');
            csv.append(e.getQuantity()).append(',').append(e.getInputTokens()).append(',').append(e.getOutputTokens())
                    .append(',').append(e.getCachedInputTokens()).append(',');
            csv.append(BigDecimal.valueOf(e.getCostNanos(), 9).toPlainString()).append(',');
            csv.append(e.getPriced()).append(',');
            if (e.getEffectiveFrom() != null) {
                csv.append(e.getEffectiveFrom());
            }
            csv.append(',').append(recordedAt).append(',');
            csv.append(e.getCacheWriteTokens()).append(',').append(e.getReasoningTokens()).append(',');
            text(csv, e.getServiceTier()).append(',');
            if (e.getPriceContextTier() != null) {
                csv.append(e.getPriceContextTier());
            }
            csv.append(',');
            text(csv, e.getPriceServiceTier()).append(',');
            csv.append(e.getCostFemtos().toPlainString()).append('\n');
        }
        try {
            c.unwrap(PGConnection.class).getCopyAPI().copyIn("copy " + STAGE + " (" + COLUMNS + ") from stdin (format csv)",
                    new StringReader(csv.toString()));
        } catch (IOException e) {
            throw new SQLException("COPY into the event log's staging table failed: " + e.getMessage(), "08000", e);
        }
        try (Statement s = c.createStatement()) {
            return s.executeUpdate("insert into " + TABLE + " (" + COLUMNS + ") select " + COLUMNS + " from " + STAGE
                    + " on conflict do nothing");
        }
    }

    /** After the caller's transaction committed: the partitions it created exist. */
    void committed() {
        knownDays.addAll(creating);
        creating.clear();
    }

    /**
     * Creates the partitions of {@code days} not known to exist yet; returns them (they exist once
     * the caller's transaction commits).
     */
    Set<LocalDate> ensurePartitions(Connection c, Set<LocalDate> days) throws SQLException {
        Set<LocalDate> created = new TreeSet<>();
        boolean locked = false;
        for (LocalDate day : days) {
            if (knownDays.contains(day)) {
                continue;
            }
            try (Statement s = c.createStatement()) {
                if (!locked) {
                    s.execute("select pg_advisory_xact_lock(" + PARTITION_LOCK + ")");
                    locked = true;
                }
                s.execute("create table if not exists " + partitionName(day) + " partition of " + TABLE
                        + " for values from ('" + day + "T00:00:00Z') to ('" + day.plusDays(1) + "T00:00:00Z')");
            }
            created.add(day);
        }
        return created;
    }

    /** Marks days known to exist (created in autocommit by the maintenance). */
    void known(Set<LocalDate> days) {
        knownDays.addAll(days);
    }

    void forget(LocalDate day) {
        knownDays.remove(day);
    }

    static String partitionName(LocalDate day) {
        return "metering.usage_events_p" + SUFFIX.format(day);
    }

    static LocalDate day(Instant at) {
        return LocalDate.ofInstant(at, ZoneOffset.UTC);
    }

    /** A CSV field: NULL as an unquoted empty field, any text quoted with its quotes doubled. */
    private static StringBuilder text(StringBuilder csv, String value) {
        if (value == null) {
            return csv;
        }
        csv.append('"');
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == '"') {
                csv.append('"');
            }
            csv.append(ch);
        }
        return csv.append('"');
    }
}
