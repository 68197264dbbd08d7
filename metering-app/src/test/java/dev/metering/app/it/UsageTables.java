package dev.metering.app.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/** What the pipeline wrote to PostgreSQL, read with plain JDBC. */
record UsageTables(String url, String user, String password) {

    /** Per org, summed over every window of {@code table} (usage_hourly, usage_daily, org_usage_hourly, org_usage_daily). */
    Map<String, SteadyTraffic.Totals> totalsPerOrg(String table) throws SQLException {
        Map<String, SteadyTraffic.Totals> out = new TreeMap<>();
        try (Connection c = connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT org_id, SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens) "
                     + "FROM metering." + table + " GROUP BY org_id")) {
            while (rs.next()) {
                out.put(rs.getString(1), new SteadyTraffic.Totals(rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
            }
        }
        return out;
    }

    /** The sink's written offsets over every partition of {@code topic}: grows with every batch written. */
    long sinkOffsets(String topic) throws SQLException {
        try (Connection c = connect();
             PreparedStatement st = c.prepareStatement("SELECT COALESCE(SUM(next_offset), 0) FROM metering.sink_progress WHERE topic = ?")) {
            st.setString(1, topic);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The sink's written offset per partition of {@code topic}. */
    Map<Integer, Long> sinkOffsetsPerPartition(String topic) throws SQLException {
        Map<Integer, Long> out = new TreeMap<>();
        try (Connection c = connect();
             PreparedStatement st = c.prepareStatement("SELECT kafka_partition, next_offset FROM metering.sink_progress WHERE topic = ?")) {
            st.setString(1, topic);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getInt(1), rs.getLong(2));
                }
            }
        }
        return out;
    }

    /** Per aggregates partition, {@code usage_as_of} (null while the pipeline never caught up there). */
    Map<Integer, java.time.Instant> usageAsOfPerPartition(String topic) throws SQLException {
        Map<Integer, java.time.Instant> out = new TreeMap<>();
        try (Connection c = connect();
             PreparedStatement st = c.prepareStatement("SELECT kafka_partition, usage_as_of FROM metering.sink_progress WHERE topic = ?")) {
            st.setString(1, topic);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    java.sql.Timestamp t = rs.getTimestamp(2);
                    out.put(rs.getInt(1), t == null ? null : t.toInstant());
                }
            }
        }
        return out;
    }

    /** Rows in dead_letters (a valid event must never end up there). */
    long deadLetters() throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM metering.dead_letters")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }
}
