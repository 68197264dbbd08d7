package dev.metering.api.deadletter;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.jooq.DSLContext;

/** Reads {@code metering.dead_letters} (written by metering-sink), newest first; uses the {@code received_at} indexes. */
public final class DeadLetterRepository {

    private final DSLContext dsl;

    public DeadLetterRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    public List<DeadLetter> newest(String reason, Instant since, int limit) {
        OffsetDateTime s = since == null ? null : since.atOffset(ZoneOffset.UTC);
        return dsl.resultQuery("SELECT id, reason, message, stage, topic, kafka_partition, kafka_offset, record_timestamp, "
                        + "record_key, payload, received_at FROM metering.dead_letters "
                        + "WHERE (CAST(? AS text) IS NULL OR reason = CAST(? AS text)) "
                        + "AND (CAST(? AS timestamptz) IS NULL OR received_at >= CAST(? AS timestamptz)) "
                        + "ORDER BY received_at DESC, id DESC LIMIT ?", reason, reason, s, s, limit)
                .fetch(r -> new DeadLetter(r.get(0, Long.class), r.get(1, String.class), r.get(2, String.class),
                        r.get(3, String.class), r.get(4, String.class), r.get(5, Integer.class), r.get(6, Long.class),
                        instant(r.get(7, OffsetDateTime.class)), r.get(8, byte[].class), r.get(9, byte[].class),
                        instant(r.get(10, OffsetDateTime.class))));
    }

    private static Instant instant(OffsetDateTime t) {
        return t == null ? null : t.toInstant();
    }
}
