package dev.metering.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MigrationsIT {

    private static final String DATABASE = "migrations_it";
    private static PostgresServer postgres;
    private static String url;

    @BeforeAll
    static void freshDatabase() {
        postgres = TestInfra.postgres();
        url = postgres.createDatabase(DATABASE);
    }

    @Test
    void shouldMigrateAnEmptyDatabaseAndChangeNothingWhenRunAgain() throws SQLException {
        int applied = Migrations.migrate(url, postgres.user(), postgres.password());
        List<String> schemaAfterFirstRun = describeSchema();

        int appliedAgain = Migrations.migrate(url, postgres.user(), postgres.password());

        assertThat(applied).isGreaterThanOrEqualTo(1);
        assertThat(appliedAgain).isZero();
        assertThat(describeSchema()).isEqualTo(schemaAfterFirstRun);
        assertThat(schemaAfterFirstRun)
                .contains("table usage_hourly", "table usage_daily", "table org_usage_hourly", "table org_usage_daily",
                        "table model_prices", "table dead_letters", "table late_events", "table sink_progress",
                        "view usage_monthly")
                .contains("index usage_hourly_pk: CREATE UNIQUE INDEX usage_hourly_pk ON metering.usage_hourly "
                        + "USING btree (org_id, window_start, user_id, feature, provider, model)")
                .contains("index dead_letters_origin_uk: CREATE UNIQUE INDEX dead_letters_origin_uk ON "
                        + "metering.dead_letters USING btree (topic, kafka_partition, kafka_offset)");
    }

    @Test
    void shouldGiveUsageTablesExactlyTheContractColumns() throws SQLException {
        Migrations.migrate(url, postgres.user(), postgres.password());

        assertThat(columns("usage_hourly")).containsExactly(
                "org_id text NO", "user_id text NO", "feature text NO", "provider text NO", "model text NO",
                "window_start timestamp with time zone NO", "events bigint NO", "quantity bigint NO",
                "input_tokens bigint NO", "output_tokens bigint NO", "cached_input_tokens bigint NO",
                "unpriced_events bigint NO", "cost_usd numeric(24,9) NO", "first_event_at timestamp with time zone NO",
                "last_event_at timestamp with time zone NO", "updated_at timestamp with time zone NO",
                "version bigint NO", "cache_write_tokens bigint NO", "reasoning_tokens bigint NO");
        assertThat(columns("usage_daily")).isEqualTo(columns("usage_hourly"));
        assertThat(columns("org_usage_hourly")).endsWith("cache_write_tokens bigint NO", "reasoning_tokens bigint NO");
        assertThat(columns("usage_events")).endsWith("cache_write_tokens bigint NO", "reasoning_tokens bigint NO",
                "service_tier text YES", "price_context_tier bigint YES", "price_service_tier text YES",
                "cost_femtos numeric(38,0) YES");
    }

    @Test
    void shouldLeaveRoomForInPlaceUpdatesOnTheTablesOfRewrittenTotals() throws SQLException {
        Migrations.migrate(url, postgres.user(), postgres.password());

        assertThat(query("SELECT c.relname || ' ' || array_to_string(c.reloptions, ',') FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'metering' AND c.relkind = 'r'"
                + " AND c.reloptions IS NOT NULL ORDER BY c.relname"))
                .containsExactly("conversation_usage fillfactor=70", "org_usage_daily fillfactor=70",
                        "org_usage_hourly fillfactor=70", "org_usage_lifetime fillfactor=70", "usage_daily fillfactor=70",
                        "usage_hourly fillfactor=70", "usage_lifetime fillfactor=70");
    }

    private List<String> columns(String table) throws SQLException {
        return query("SELECT column_name || ' ' || CASE WHEN data_type = 'numeric' THEN 'numeric(' || numeric_precision"
                + " || ',' || numeric_scale || ')' ELSE data_type END || ' ' || is_nullable FROM information_schema.columns"
                + " WHERE table_schema = 'metering' AND table_name = '" + table + "' ORDER BY ordinal_position");
    }

    private List<String> describeSchema() throws SQLException {
        List<String> lines = new ArrayList<>();
        lines.addAll(query("SELECT CASE table_type WHEN 'VIEW' THEN 'view ' ELSE 'table ' END || table_name"
                + " FROM information_schema.tables WHERE table_schema = 'metering' ORDER BY table_name"));
        lines.addAll(query("SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '"
                + " || is_nullable || ' ' || coalesce(column_default, '') FROM information_schema.columns"
                + " WHERE table_schema = 'metering' ORDER BY table_name, ordinal_position"));
        lines.addAll(query("SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes"
                + " WHERE schemaname = 'metering' ORDER BY indexname"));
        lines.addAll(query("SELECT 'view ' || viewname || ': ' || definition FROM pg_views"
                + " WHERE schemaname = 'metering' ORDER BY viewname"));
        lines.addAll(query("SELECT 'migration ' || version || ' ' || description || ' ' || checksum"
                + " FROM metering.flyway_schema_history ORDER BY installed_rank"));
        return lines;
    }

    private List<String> query(String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = postgres.connect(DATABASE); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }
}
