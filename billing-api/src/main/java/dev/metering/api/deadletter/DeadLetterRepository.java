package dev.metering.api.deadletter;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.jooq.DSLContext;
import org.jooq.Record;

/** Reads {@code metering.dead_letters} (written by metering-sink), newest first; uses the {@code received_at} indexes. */
public final class DeadLetterRepository {

    private static final String COLUMNS = "id, reason, message, stage, topic, kafka_partition, kafka_offset, "
            + "record_timestamp, %s, octet_length(record_key), %s, octet_length(payload), received_at";

    private final DSLContext dsl;

    public DeadLetterRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    /**
     * A page newest first, strictly after ({@code afterAt}, {@code afterId}) when given; key and
     * payload cut to their first {@code previewBytes} in the database, so a huge record is never read whole.
     */
    public List<DeadLetter> newest(String reason, Instant since, Instant afterAt, Long afterId, int limit,
                                   int previewBytes) {
        OffsetDateTime s = since == null ? null : since.atOffset(ZoneOffset.UTC);
        OffsetDateTime a = afterAt == null ? null : afterAt.atOffset(ZoneOffset.UTC);
        String columns = String.format(COLUMNS, "substring(record_key from 1 for " + previewBytes + ")",
                "substring(payload from 1 for " + previewBytes + ")");
        return dsl.resultQuery("SELECT " + columns + " FROM metering.dead_letters "
                        + "WHERE (CAST(? AS text) IS NULL OR reason = CAST(? AS text)) "
                        + "AND (CAST(? AS timestamptz) IS NULL OR received_at >= CAST(? AS timestamptz)) "
                        + "AND (CAST(? AS timestamptz) IS NULL OR (received_at, id) < (CAST(? AS timestamptz), CAST(? AS bigint))) "
                        + "ORDER BY received_at DESC, id DESC LIMIT ?", reason, reason, s, s, a, a, afterId, limit)
                .fetch(DeadLetterRepository::deadLetter);
    }

    /** One dead letter with its whole key and payload. */
    public Optional<DeadLetter> byId(long id) {
        return dsl.resultQuery("SELECT " + String.format(COLUMNS, "record_key", "payload")
                        + " FROM metering.dead_letters WHERE id = ?", id)
                .fetchOptional(DeadLetterRepository::deadLetter);
    }

    private static DeadLetter deadLetter(Record r) {
        return new DeadLetter(r.get(0, Long.class), r.get(1, String.class), r.get(2, String.class),
                r.get(3, String.class), r.get(4, String.class), r.get(5, Integer.class), r.get(6, Long.class),
                instant(r.get(7, OffsetDateTime.class)), r.get(8, byte[].class), length(r.get(9, Long.class)),
                r.get(10, byte[].class), length(r.get(11, Long.class)), instant(r.get(12, OffsetDateTime.class)));
    }

    private static long length(Long n) {
        return n == null ? 0 : n;
    }

    private static Instant instant(OffsetDateTime t) {
        return t == null ? null : t.toInstant();
    }
}
