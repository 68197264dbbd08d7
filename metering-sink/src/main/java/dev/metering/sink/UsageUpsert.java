package dev.metering.sink;

import static dev.metering.db.jooq.Tables.ORG_USAGE_DAILY;
import static dev.metering.db.jooq.Tables.ORG_USAGE_HOURLY;
import static dev.metering.db.jooq.Tables.USAGE_DAILY;
import static dev.metering.db.jooq.Tables.USAGE_HOURLY;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.InsertValuesStepN;
import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.conf.ParamType;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;

/**
 * The monotonic upsert of window totals into the four usage tables:
 *
 * <pre>
 * INSERT INTO metering.usage_hourly (...) VALUES (...), (...), ...      -- up to 1024 rows
 * ON CONFLICT (org_id, window_start, user_id, feature, provider, model)
 * DO UPDATE SET events = excluded.events, ..., version = excluded.version
 * WHERE usage_hourly.version &lt; excluded.version
 * </pre>
 *
 * Absolute totals, never {@code total = total + x}: an update that is older than (or as old as)
 * the stored row changes nothing, so replays, duplicates and reordering cannot double count.
 *
 * <p>jOOQ renders the statement from the generated table classes, once per (table, row count),
 * kept in a small LRU cache; the rows are bound with plain JDBC on the transaction's connection
 * and sent as ONE statement. A table's rows go in as few statements as possible: up to 1024 rows
 * in one, more split into equal parts (1250 rows: 2 x 625), so steady batch sizes reuse the same
 * statement texts and pgjdbc keeps them server-prepared. (1024 and 1920 rows per statement
 * measured the same within the noise of the shared machine.)
 */
final class UsageUpsert {

    /** 17 bind values per row: 17,408 per statement, well under pgjdbc's limit of 32,767. */
    static final int MAX_ROWS_PER_STATEMENT = 1024;

    /** One of the four target tables, with its key and value columns in bind order. */
    enum Target {
        DETAIL_HOUR(USAGE_HOURLY, true, USAGE_HOURLY.ORG_ID, USAGE_HOURLY.WINDOW_START, USAGE_HOURLY.USER_ID,
                USAGE_HOURLY.FEATURE, USAGE_HOURLY.PROVIDER, USAGE_HOURLY.MODEL),
        DETAIL_DAY(USAGE_DAILY, true, USAGE_DAILY.ORG_ID, USAGE_DAILY.WINDOW_START, USAGE_DAILY.USER_ID,
                USAGE_DAILY.FEATURE, USAGE_DAILY.PROVIDER, USAGE_DAILY.MODEL),
        ORG_HOUR(ORG_USAGE_HOURLY, false, ORG_USAGE_HOURLY.ORG_ID, ORG_USAGE_HOURLY.FEATURE,
                ORG_USAGE_HOURLY.WINDOW_START),
        ORG_DAY(ORG_USAGE_DAILY, false, ORG_USAGE_DAILY.ORG_ID, ORG_USAGE_DAILY.FEATURE, ORG_USAGE_DAILY.WINDOW_START);

        final Table<? extends Record> table;
        final boolean detail;
        final List<Field<?>> keyColumns;
        final List<Field<?>> valueColumns;
        final Field<Long> version;

        Target(Table<? extends Record> table, boolean detail, Field<?>... keyColumns) {
            this.table = table;
            this.detail = detail;
            this.keyColumns = List.of(keyColumns);
            List<Field<?>> values = new ArrayList<>();
            // the value columns shared by all four tables, in bind order
            for (String name : List.of("events", "quantity", "input_tokens", "output_tokens", "cached_input_tokens",
                    "unpriced_events", "cost_usd", "first_event_at", "last_event_at", "updated_at", "version")) {
                values.add(table.field(name));
            }
            this.valueColumns = List.copyOf(values);
            this.version = table.field("version", Long.class);
        }

        String tableName() {
            return table.getName();
        }

        static Target of(UsageWindowKey key) {
            boolean hour = key.getSize() == WindowSize.HOUR;
            if (key.getGrain() == WindowGrain.ORG) {
                return hour ? ORG_HOUR : ORG_DAY;
            }
            return hour ? DETAIL_HOUR : DETAIL_DAY;
        }
    }

    /** What one upsert did to one table. */
    record Outcome(int written, int stale, int statements) {
    }

    private static final DSLContext RENDERER = DSL.using(SQLDialect.POSTGRES,
            new Settings().withRenderFormatted(false));

    /** Statement texts kept per table (a 1024-row text is about 190 KB). */
    private static final int CACHED_SHAPES_PER_TABLE = 32;

    private final Map<Target, Map<Integer, String>> statements = new EnumMap<>(Target.class);

    UsageUpsert() {
        for (Target target : Target.values()) {
            statements.put(target, new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Integer, String> eldest) {
                    return size() > CACHED_SHAPES_PER_TABLE;
                }
            });
        }
    }

    /** Splits the (already collapsed, sorted) updates by table. */
    static Map<Target, List<WindowUpdate>> byTarget(List<WindowUpdate> updates) {
        Map<Target, List<WindowUpdate>> split = new LinkedHashMap<>();
        for (WindowUpdate update : updates) {
            split.computeIfAbsent(Target.of(update.key()), t -> new ArrayList<>()).add(update);
        }
        return split;
    }

    /**
     * Upserts {@code rows} into {@code target} on {@code connection} (the caller's transaction).
     * {@code written} counts rows inserted or changed; {@code stale} the rows the version guard kept.
     */
    Outcome upsert(Connection connection, Target target, List<WindowUpdate> rows, OffsetDateTime now)
            throws SQLException {
        int written = 0;
        int statementsSent = 0;
        int from = 0;
        int parts = statementsFor(rows.size());
        for (int part = 0; part < parts; part++) {
            int n = (rows.size() - from) / (parts - part);
            String sql = statements.get(target).computeIfAbsent(n, size -> render(target, size));
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                int i = 1;
                for (WindowUpdate row : rows.subList(from, from + n)) {
                    i = bind(statement, i, target, row, now);
                }
                written += statement.executeUpdate();
                statementsSent++;
            }
            from += n;
        }
        return new Outcome(written, rows.size() - written, statementsSent);
    }

    /** How many statements {@code rows} rows need: the fewest that keep each at most 1024 rows. */
    static int statementsFor(int rows) {
        return (rows + MAX_ROWS_PER_STATEMENT - 1) / MAX_ROWS_PER_STATEMENT;
    }

    /** The SQL text jOOQ renders for {@code rows} rows (indexed {@code ?} parameters). */
    static String render(Target target, int rows) {
        List<Field<?>> columns = new ArrayList<>(target.keyColumns);
        columns.addAll(target.valueColumns);
        List<Field<?>> parameters = new ArrayList<>();
        for (Field<?> column : columns) {
            parameters.add(DSL.val(null, column.getDataType()));
        }
        InsertValuesStepN<? extends Record> insert = RENDERER.insertInto(target.table).columns(columns);
        for (int r = 0; r < rows; r++) {
            insert = insert.values(parameters);
        }
        Map<Field<?>, Field<?>> updates = new LinkedHashMap<>();
        for (Field<?> column : target.valueColumns) {
            updates.put(column, DSL.excluded(column));
        }
        return RENDERER.renderContext().paramType(ParamType.INDEXED).render(
                insert.onConflict(target.keyColumns)
                        .doUpdate()
                        .set(updates)
                        .where(target.version.lt(DSL.excluded(target.version))));
    }

    private static int bind(PreparedStatement s, int i, Target target, WindowUpdate row, OffsetDateTime now)
            throws SQLException {
        UsageWindowKey key = row.key();
        UsageWindowTotals totals = row.totals();
        OffsetDateTime windowStart = utc(key.getWindowStart());
        if (target.detail) {
            s.setString(i++, key.getOrgId());
            s.setObject(i++, windowStart);
            s.setString(i++, key.getUserId());
            s.setString(i++, key.getFeature());
            s.setString(i++, key.getProvider());
            s.setString(i++, key.getModel());
        } else {
            s.setString(i++, key.getOrgId());
            s.setString(i++, key.getFeature());
            s.setObject(i++, windowStart);
        }
        s.setLong(i++, totals.getEvents());
        s.setLong(i++, totals.getQuantity());
        s.setLong(i++, totals.getInputTokens());
        s.setLong(i++, totals.getOutputTokens());
        s.setLong(i++, totals.getCachedInputTokens());
        s.setLong(i++, totals.getUnpricedEvents());
        s.setBigDecimal(i++, row.costUsd());
        s.setObject(i++, utc(totals.getFirstEventAt()));
        s.setObject(i++, utc(totals.getLastEventAt()));
        s.setObject(i++, now);
        s.setLong(i++, totals.getVersion());
        return i;
    }

    static OffsetDateTime utc(java.time.Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }
}
