package dev.metering.sink;

import dev.metering.avro.UsageWindowKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * {@code usage_daily} derived from {@code usage_hourly} in the sink's transaction: the stream
 * emits detail rows per hour only, and each day row is the sum of its (at most 24) hour rows.
 *
 * <p>Per batch, for the detail days its hour rows touch:
 * <ol>
 *   <li>{@link #lock}: before the hour rows are written, each day row is inserted empty if missing
 *       and locked, in key order (two sink instances writing different hours of one day take
 *       turns; a fixed order cannot deadlock);</li>
 *   <li>the hour rows are upserted;</li>
 *   <li>{@link #recompute}: each day row is rewritten as the sum of its hour rows, read after the
 *       lock was granted, so it includes every hour committed by another instance. Its version is
 *       the sum of the hours' versions (= events folded in), so the monotonic guard holds.</li>
 * </ol>
 * A day row therefore always equals the sum of the committed hour rows of its day.
 */
final class DailyRollup {

    private static final String COLUMNS = "org_id, window_start, user_id, feature, provider, model";
    private static final String KEYS = "unnest(?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::text[]) "
            + "as k(org_id, window_start, user_id, feature, provider, model)";

    static final String LOCK = "insert into metering.usage_daily as t (" + COLUMNS + ", events, quantity, input_tokens, "
            + "output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at, updated_at, version, "
            + "cache_write_tokens, reasoning_tokens) "
            + "select k.org_id, k.window_start, k.user_id, k.feature, k.provider, k.model, 0, 0, 0, 0, 0, 0, 0, "
            + "k.window_start, k.window_start, ?::timestamptz, 0, 0, 0 from " + KEYS
            + " on conflict (" + COLUMNS + ") do update set version = t.version where false";

    static final String RECOMPUTE = "insert into metering.usage_daily as t (" + COLUMNS + ", events, quantity, input_tokens, "
            + "output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at, updated_at, version, "
            + "cache_write_tokens, reasoning_tokens) "
            + "select k.org_id, k.window_start, k.user_id, k.feature, k.provider, k.model, sum(h.events), sum(h.quantity), "
            + "sum(h.input_tokens), sum(h.output_tokens), sum(h.cached_input_tokens), sum(h.unpriced_events), sum(h.cost_usd), "
            + "min(h.first_event_at), max(h.last_event_at), ?::timestamptz, sum(h.version), sum(h.cache_write_tokens), "
            + "sum(h.reasoning_tokens) from " + KEYS
            + " join metering.usage_hourly h on h.org_id = k.org_id and h.user_id = k.user_id and h.feature = k.feature"
            + " and h.provider = k.provider and h.model = k.model"
            + " and h.window_start >= k.window_start and h.window_start < k.window_start + interval '1 day'"
            + " group by k.org_id, k.window_start, k.user_id, k.feature, k.provider, k.model"
            + " on conflict (" + COLUMNS + ") do update set events = excluded.events, quantity = excluded.quantity,"
            + " input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
            + " cached_input_tokens = excluded.cached_input_tokens, unpriced_events = excluded.unpriced_events,"
            + " cost_usd = excluded.cost_usd, first_event_at = excluded.first_event_at, last_event_at = excluded.last_event_at,"
            + " updated_at = excluded.updated_at, version = excluded.version,"
            + " cache_write_tokens = excluded.cache_write_tokens, reasoning_tokens = excluded.reasoning_tokens"
            + " where t.version < excluded.version";

    /** One detail day: (org, day, user, feature, provider, model), ordered as the table's primary key. */
    record Day(String org, Instant day, String user, String feature, String provider, String model) implements Comparable<Day> {
        @Override
        public int compareTo(Day o) {
            int c = org.compareTo(o.org);
            if (c == 0) {
                c = day.compareTo(o.day);
            }
            if (c == 0) {
                c = user.compareTo(o.user);
            }
            if (c == 0) {
                c = feature.compareTo(o.feature);
            }
            if (c == 0) {
                c = provider.compareTo(o.provider);
            }
            if (c == 0) {
                c = model.compareTo(o.model);
            }
            return c;
        }
    }

    private DailyRollup() {
    }

    /** The distinct days of the given detail hour updates, in key order. */
    static List<Day> daysOf(List<WindowUpdate> detailHours) {
        TreeSet<Day> days = new TreeSet<>();
        for (WindowUpdate u : detailHours) {
            UsageWindowKey k = u.key();
            days.add(new Day(k.getOrgId(), k.getWindowStart().truncatedTo(ChronoUnit.DAYS), k.getUserId(), k.getFeature(),
                    k.getProvider(), k.getModel()));
        }
        return new ArrayList<>(days);
    }

    /** Step 1: creates the missing day rows and locks all of them, in key order. */
    static void lock(Connection c, List<Day> days, OffsetDateTime now) throws SQLException {
        run(c, LOCK, days, now);
    }

    /** Step 3: rewrites each day row as the sum of its hour rows; returns the rows changed. */
    static int recompute(Connection c, List<Day> days, OffsetDateTime now) throws SQLException {
        return run(c, RECOMPUTE, days, now);
    }

    private static int run(Connection c, String sql, List<Day> days, OffsetDateTime now) throws SQLException {
        int n = days.size();
        String[] org = new String[n];
        String[] start = new String[n];
        String[] user = new String[n];
        String[] feature = new String[n];
        String[] provider = new String[n];
        String[] model = new String[n];
        for (int i = 0; i < n; i++) {
            Day d = days.get(i);
            org[i] = d.org();
            start[i] = d.day().toString();
            user[i] = d.user();
            feature[i] = d.feature();
            provider[i] = d.provider();
            model[i] = d.model();
        }
        try (PreparedStatement s = c.prepareStatement(sql)) {
            // the select list comes first in the text: updated_at is parameter 1
            s.setObject(1, now);
            s.setArray(2, c.createArrayOf("text", org));
            s.setArray(3, c.createArrayOf("text", start));
            s.setArray(4, c.createArrayOf("text", user));
            s.setArray(5, c.createArrayOf("text", feature));
            s.setArray(6, c.createArrayOf("text", provider));
            s.setArray(7, c.createArrayOf("text", model));
            return s.executeUpdate();
        }
    }
}
