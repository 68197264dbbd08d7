package dev.metering.sink;

import static dev.metering.db.jooq.Tables.CONVERSATION_USAGE;
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
import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;

/**
 * The monotonic upsert of window totals into the four usage tables, ONE statement per table per
 * batch whatever its size, the rows passed as one array per column:
 *
 * <pre>
 * INSERT INTO metering.usage_hourly AS t (org_id, window_start, ..., updated_at, version)
 * SELECT u.org_id, u.window_start, ..., ?::timestamptz, u.version
 * FROM unnest(?::text[], ?::timestamptz[], ..., ?::bigint[]) AS u(org_id, window_start, ..., version)
 * ON CONFLICT (org_id, window_start, user_id, feature, provider, model)
 * DO UPDATE SET events = excluded.events, ..., version = excluded.version
 * WHERE t.version &lt; excluded.version
 * </pre>
 *
 * Absolute totals, never {@code total = total + x}: an update that is older than (or as old as)
 * the stored row changes nothing, so replays, duplicates and reordering cannot double count.
 * The caller passes each key at most once per statement (ON CONFLICT DO UPDATE cannot touch a row
 * twice in one statement), sorted by key (a fixed lock order); unnest keeps that order.
 *
 * <p>Why arrays: the text is the same for every batch, so pgjdbc server-prepares it after a few
 * uses and the server never re-parses or re-plans it, whatever the number of rows. bigint columns go as binary {@code int8[]}; text, timestamps (ISO-8601) and cost (plain decimal
 * string, exact) as text arrays cast by the server.
 */
final class UsageUpsert {
    /** One of the four target tables, with its key and value columns in bind order. */
    enum Target {
        DETAIL_HOUR(USAGE_HOURLY, true, USAGE_HOURLY.ORG_ID, USAGE_HOURLY.WINDOW_START, USAGE_HOURLY.USER_ID,
                USAGE_HOURLY.FEATURE, USAGE_HOURLY.PROVIDER, USAGE_HOURLY.MODEL),
        DETAIL_DAY(USAGE_DAILY, true, USAGE_DAILY.ORG_ID, USAGE_DAILY.WINDOW_START, USAGE_DAILY.USER_ID,
                USAGE_DAILY.FEATURE, USAGE_DAILY.PROVIDER, USAGE_DAILY.MODEL),
        ORG_HOUR(ORG_USAGE_HOURLY, false, ORG_USAGE_HOURLY.ORG_ID, ORG_USAGE_HOURLY.FEATURE,
                ORG_USAGE_HOURLY.WINDOW_START),
        ORG_DAY(ORG_USAGE_DAILY, false, ORG_USAGE_DAILY.ORG_ID, ORG_USAGE_DAILY.FEATURE, ORG_USAGE_DAILY.WINDOW_START),
        CONVERSATION(CONVERSATION_USAGE, false, CONVERSATION_USAGE.ORG_ID, CONVERSATION_USAGE.CONVERSATION_ID,
                CONVERSATION_USAGE.FEATURE);

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
                    "unpriced_events", "cost_usd", "first_event_at", "last_event_at", "updated_at", "version",
                    "cache_write_tokens", "reasoning_tokens")) {
                values.add(table.field(name));
            }
            this.valueColumns = List.copyOf(values);
            this.version = table.field("version", Long.class);
        }

        String tableName() {
            return table.getName();
        }

        static Target of(UsageWindowKey key) {
            if (key.getGrain() == WindowGrain.CONVERSATION) {
                return CONVERSATION;
            }
            boolean hour = key.getSize() == WindowSize.HOUR;
            if (key.getGrain() == WindowGrain.ORG) {
                return hour ? ORG_HOUR : ORG_DAY;
            }
            return hour ? DETAIL_HOUR : DETAIL_DAY;
        }
    }

    /** What one upsert did to one table; {@code nanos}: the time it took, when the caller measured it. */
    record Outcome(int written, int stale, int statements, long nanos) {
        Outcome(int written, int stale, int statements) {
            this(written, stale, statements, 0);
        }

        Outcome plus(Outcome other) {
            return new Outcome(written + other.written, stale + other.stale, statements + other.statements,
                    nanos + other.nanos);
        }
    }

    private static final DSLContext RENDERER = DSL.using(SQLDialect.POSTGRES,
            new Settings().withRenderFormatted(false));

    /** The statement text of each table, rendered once. */
    private static final Map<Target, String> STATEMENTS = new EnumMap<>(Target.class);

    static {
        for (Target target : Target.values()) {
            STATEMENTS.put(target, render(target));
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

    /** The PostgreSQL array type each column is bound as in the unnest statement. */
    private static String arrayType(Field<?> column) {
        return switch (column.getName()) {
            case "window_start", "first_event_at", "last_event_at" -> "timestamptz[]";
            case "cost_usd" -> "numeric[]";
            case "org_id", "user_id", "feature", "provider", "model", "conversation_id" -> "text[]";
            default -> "bigint[]";
        };
    }

    /**
     * The array form: ONE statement text per table whatever the row count, one array parameter per
     * column (updated_at a single scalar), so the server parses and plans it once per connection.
     */
    static String render(Target target) {
        List<Field<?>> columns = new ArrayList<>(target.keyColumns);
        columns.addAll(target.valueColumns);
        StringBuilder names = new StringBuilder();
        StringBuilder arrays = new StringBuilder();
        StringBuilder select = new StringBuilder();
        for (Field<?> column : columns) {
            String name = RENDERER.render(column.getUnqualifiedName());
            names.append(names.length() == 0 ? "" : ", ").append(name);
            select.append(select.length() == 0 ? "" : ", ")
                    .append(column.getName().equals("updated_at") ? "?::timestamptz" : "u." + name);
            if (!column.getName().equals("updated_at")) {
                arrays.append(arrays.length() == 0 ? "" : ", ").append("?::").append(arrayType(column));
            }
        }
        String aliases = names.toString().replace(", \"updated_at\"", "");
        StringBuilder set = new StringBuilder();
        for (Field<?> column : target.valueColumns) {
            String name = RENDERER.render(column.getUnqualifiedName());
            set.append(set.length() == 0 ? "" : ", ").append(name).append(" = excluded.").append(name);
        }
        StringBuilder keys = new StringBuilder();
        for (Field<?> column : target.keyColumns) {
            keys.append(keys.length() == 0 ? "" : ", ").append(RENDERER.render(column.getUnqualifiedName()));
        }
        // a conversation purged upstream after its TTL starts again at version 1, after its last event
        String guard = target == Target.CONVERSATION
                ? " where t.\"version\" < excluded.\"version\" or excluded.\"first_event_at\" > t.\"last_event_at\""
                : " where t.\"version\" < excluded.\"version\"";
        return "insert into " + RENDERER.render(target.table) + " as t (" + names + ") select " + select
                + " from unnest(" + arrays + ") as u(" + aliases + ") on conflict (" + keys + ") do update set "
                + set + guard;
    }

    /**
     * Upserts {@code rows} into {@code target} on {@code connection} (the caller's transaction).
     * {@code written} counts rows inserted or changed; {@code stale} the rows the version guard kept.
     */
    Outcome upsert(Connection connection, Target target, List<WindowUpdate> rows, OffsetDateTime now)
            throws SQLException {
        int n = rows.size();
        String[] org = new String[n];
        String[] windowStart = new String[n];
        String[] user = target.detail ? new String[n] : null;
        String[] feature = new String[n];
        String[] provider = target.detail ? new String[n] : null;
        String[] model = target.detail ? new String[n] : null;
        long[] events = new long[n];
        long[] quantity = new long[n];
        long[] input = new long[n];
        long[] output = new long[n];
        long[] cached = new long[n];
        long[] unpriced = new long[n];
        String[] cost = new String[n];
        String[] first = new String[n];
        String[] last = new String[n];
        long[] version = new long[n];
        long[] cacheWrite = new long[n];
        long[] reasoning = new long[n];
        for (int r = 0; r < n; r++) {
            WindowUpdate row = rows.get(r);
            UsageWindowKey key = row.key();
            UsageWindowTotals totals = row.totals();
            org[r] = key.getOrgId();
            windowStart[r] = text(key.getWindowStart());
            feature[r] = key.getFeature();
            if (target.detail) {
                user[r] = key.getUserId();
                provider[r] = key.getProvider();
                model[r] = key.getModel();
            }
            events[r] = totals.getEvents();
            quantity[r] = totals.getQuantity();
            input[r] = totals.getInputTokens();
            output[r] = totals.getOutputTokens();
            cached[r] = totals.getCachedInputTokens();
            unpriced[r] = totals.getUnpricedEvents();
            cost[r] = row.costUsd().toPlainString();
            first[r] = text(totals.getFirstEventAt());
            last[r] = text(totals.getLastEventAt());
            version[r] = totals.getVersion();
            cacheWrite[r] = totals.getCacheWriteTokens();
            reasoning[r] = totals.getReasoningTokens();
        }
        String sql = STATEMENTS.get(target);
        try (PreparedStatement s = connection.prepareStatement(sql)) {
            // the select list comes first in the text: updated_at is parameter 1
            s.setObject(1, now);
            int i = 2;
            if (target.detail) {
                s.setArray(i++, connection.createArrayOf("text", org));
                s.setArray(i++, connection.createArrayOf("text", windowStart));
                s.setArray(i++, connection.createArrayOf("text", user));
                s.setArray(i++, connection.createArrayOf("text", feature));
                s.setArray(i++, connection.createArrayOf("text", provider));
                s.setArray(i++, connection.createArrayOf("text", model));
            } else if (target == Target.CONVERSATION) {
                String[] conversation = new String[n];
                for (int r = 0; r < n; r++) {
                    conversation[r] = rows.get(r).key().getConversationId();
                }
                s.setArray(i++, connection.createArrayOf("text", org));
                s.setArray(i++, connection.createArrayOf("text", conversation));
                s.setArray(i++, connection.createArrayOf("text", feature));
            } else {
                s.setArray(i++, connection.createArrayOf("text", org));
                s.setArray(i++, connection.createArrayOf("text", feature));
                s.setArray(i++, connection.createArrayOf("text", windowStart));
            }
            s.setObject(i++, events);
            s.setObject(i++, quantity);
            s.setObject(i++, input);
            s.setObject(i++, output);
            s.setObject(i++, cached);
            s.setObject(i++, unpriced);
            s.setArray(i++, connection.createArrayOf("text", cost));
            s.setArray(i++, connection.createArrayOf("text", first));
            s.setArray(i++, connection.createArrayOf("text", last));
            s.setObject(i++, version);
            s.setObject(i++, cacheWrite);
            s.setObject(i, reasoning);
            int written = s.executeUpdate();
            return new Outcome(written, n - written, 1);
        }
    }

    private static String text(java.time.Instant instant) {
        return instant == null ? null : instant.toString();
    }

    static OffsetDateTime utc(java.time.Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }
}
