package dev.metering.api.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;

/** Adds counted check decisions to check_outcomes_daily (increments: instances add up). */
public final class CheckOutcomeRepository {

    /** One counter cell. */
    public record Key(LocalDate day, String orgId, String feature, String outcome, String code) {
    }

    private static final Comparator<Key> ORDER = Comparator.comparing(Key::day).thenComparing(Key::orgId)
            .thenComparing(Key::feature).thenComparing(Key::outcome).thenComparing(Key::code);

    /**
     * One statement for the whole flush, whatever its size: the cells as arrays, unnested. Rows
     * go in key order, so that two instances flushing the same cells lock them in the same order.
     */
    private static final String UPSERT = "INSERT INTO metering.check_outcomes_daily AS t "
            + "(day, org_id, feature, outcome, code, checks) "
            + "SELECT * FROM unnest(?::text[]::date[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[]) "
            + "ON CONFLICT (day, org_id, feature, outcome, code) DO UPDATE SET checks = t.checks + excluded.checks";

    private final DSLContext dsl;

    public CheckOutcomeRepository(DSLContext dsl) {
        this.dsl = dsl;
    }

    public void add(Map<Key, Long> counts) {
        if (counts.isEmpty()) {
            return;
        }
        List<Key> keys = new ArrayList<>(counts.keySet());
        keys.sort(ORDER);
        int n = keys.size();
        String[] days = new String[n];
        String[] orgs = new String[n];
        String[] features = new String[n];
        String[] outcomes = new String[n];
        String[] codes = new String[n];
        Long[] checks = new Long[n];
        for (int i = 0; i < n; i++) {
            Key k = keys.get(i);
            days[i] = k.day().toString(); // ISO yyyy-MM-dd, no time zone involved
            orgs[i] = k.orgId();
            features[i] = k.feature();
            outcomes[i] = k.outcome();
            codes[i] = k.code();
            checks[i] = counts.get(k);
        }
        dsl.connection(c -> {
            try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
                ps.setArray(1, array(c, "text", days));
                ps.setArray(2, array(c, "text", orgs));
                ps.setArray(3, array(c, "text", features));
                ps.setArray(4, array(c, "text", outcomes));
                ps.setArray(5, array(c, "text", codes));
                ps.setArray(6, array(c, "int8", checks));
                ps.executeUpdate();
            }
        });
    }

    private static Array array(Connection c, String type, Object[] values) throws java.sql.SQLException {
        return c.createArrayOf(type, values);
    }
}
