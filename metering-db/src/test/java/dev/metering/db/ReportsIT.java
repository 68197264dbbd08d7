package dev.metering.db;

import static dev.metering.db.jooq.Tables.DEAD_LETTERS;
import static dev.metering.db.jooq.Tables.ORG_USAGE_DAILY;
import static dev.metering.db.jooq.Tables.ORG_USAGE_HOURLY;
import static dev.metering.db.jooq.Tables.SINK_PROGRESS;
import static dev.metering.db.jooq.Tables.USAGE_DAILY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.devstack.PostgresServer;
import dev.metering.devstack.TestInfra;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Runs every query of sql/reports.sql exactly as written against rows written here. */
class ReportsIT {

    private static final String DATABASE = "reports_it";
    private static final Map<String, String> REPORTS = ReportQueries.load();
    /** The JVM's clock only places rows relative to the database's now() for the rolling queries. */
    private static final Instant NOW = Instant.now();

    private static PostgresServer postgres;
    private static Connection connection;

    @BeforeAll
    static void writeUsage() throws SQLException {
        postgres = TestInfra.postgres();
        String url = postgres.createDatabase(DATABASE);
        Migrations.migrate(url, postgres.user(), postgres.password());
        connection = postgres.connect(DATABASE);
        DSLContext db = DSL.using(connection, SQLDialect.POSTGRES);

        // March 2026, org grain
        orgDay(db, "acme", "CHAT_MESSAGE", "2026-03-02", 10, 0, 0, "0");
        orgDay(db, "acme", "AI_COMPLETION", "2026-03-02", 4, 1000, 500, "0.012500000");
        orgDay(db, "acme", "AI_COMPLETION", "2026-03-03", 2, 400, 100, "0.004000000");
        orgDay(db, "beta", "AI_COMPLETION", "2026-03-02", 1, 2000, 1000, "0.030000000");
        orgDay(db, "gamma", "CHAT_MESSAGE", "2026-02-28", 5, 0, 0, "0.001000000");
        // March 2026, detail grain
        day(db, "acme", "u1", "AI_COMPLETION", "openai", "gpt-4o", "2026-03-02", 3, 600, 100, 300, 0, "0.009000000");
        day(db, "acme", "u2", "AI_COMPLETION", "anthropic", "claude-sonnet", "2026-03-02", 1, 400, 0, 200, 0, "0.003500000");
        day(db, "acme", "u1", "AI_COMPLETION", "openai", "gpt-4o", "2026-03-03", 2, 400, 0, 100, 0, "0.004000000");
        day(db, "acme", "u1", "CHAT_MESSAGE", "", "", "2026-03-02", 10, 0, 0, 0, 0, "0");
        day(db, "beta", "", "AI_COMPLETION", "openai", "gpt-4o-mini", "2026-03-02", 1, 2000, 0, 1000, 0, "0.030000000");
        day(db, "gamma", "u9", "CHAT_MESSAGE", "", "", "2026-02-28", 5, 0, 0, 0, 0, "0.001000000");
        // rolling windows, relative to now
        String today = NOW.truncatedTo(ChronoUnit.DAYS).toString().substring(0, 10);
        String daysAgo40 = NOW.minus(40, ChronoUnit.DAYS).truncatedTo(ChronoUnit.DAYS).toString().substring(0, 10);
        day(db, "delta", "u1", "AI_COMPLETION", "openai", "gpt-4o", today, 3, 0, 0, 0, 0, "0.100000000");
        day(db, "delta", "u2", "AI_COMPLETION", "openai", "gpt-4o", today, 7, 0, 0, 0, 0, "0.200000000");
        day(db, "delta", "u3", "AI_COMPLETION", "openai", "gpt-4o", daysAgo40, 1, 0, 0, 0, 0, "9.990000000");
        Instant thisHour = NOW.truncatedTo(ChronoUnit.HOURS);
        orgHour(db, "delta", "CHAT_MESSAGE", thisHour, 7);
        orgHour(db, "delta", "CHAT_MESSAGE", thisHour.minus(1, ChronoUnit.HOURS), 5);
        orgHour(db, "delta", "AI_COMPLETION", thisHour.minus(1, ChronoUnit.HOURS), 2);
        orgHour(db, "delta", "CHAT_MESSAGE", thisHour.minus(3, ChronoUnit.HOURS), 100);
        // dead letters and sink progress
        deadLetter(db, "INVALID", 1, "2026-03-02T10:00:00Z");
        deadLetter(db, "INVALID", 2, "2026-03-02T11:00:00Z");
        deadLetter(db, "LATE", 3, "2026-03-02T23:59:59Z");
        deadLetter(db, "MALFORMED", 4, "2026-03-03T00:00:00Z");
        progress(db, "metering.usage.aggregates", 0, "2026-03-03T10:00:00Z", "2026-03-03T10:00:01Z");
        progress(db, "metering.usage.aggregates", 1, "2026-03-03T09:59:30Z", "2026-03-03T10:00:02Z");
        progress(db, "metering.usage.dlq", 0, null, "2026-03-03T10:00:05Z");
    }

    @AfterAll
    static void close() throws SQLException {
        connection.close();
    }

    @Test
    void shouldReportUsagePerOrgPerDay() throws SQLException {
        assertThat(run("usage_per_org_per_day")).containsExactly(
                "acme|2026-03-02|14|14|1000|500|0.012500000",
                "acme|2026-03-03|2|2|400|100|0.004000000",
                "beta|2026-03-02|1|1|2000|1000|0.030000000");
    }

    @Test
    void shouldReportUsagePerOrgPerMonth() throws SQLException {
        assertThat(run("usage_per_org_per_month")).containsExactly(
                "acme|2026-03-01|16|1400|600|0.016500000",
                "beta|2026-03-01|1|2000|1000|0.030000000",
                "gamma|2026-02-01|5|0|0|0.001000000");
    }

    @Test
    void shouldReportCostByModel() throws SQLException {
        assertThat(run("cost_by_model")).containsExactly(
                "openai|gpt-4o-mini|1|2000|0|1000|0|0.030000000",
                "openai|gpt-4o|5|1000|100|400|0|0.013000000",
                "anthropic|claude-sonnet|1|400|0|200|0|0.003500000");
    }

    @Test
    void shouldReportTopOrgsByCost() throws SQLException {
        assertThat(run("top_orgs_by_cost")).containsExactly(
                "beta|0.030000000|1|3000",
                "acme|0.016500000|16|2000");
    }

    @Test
    void shouldReportTopUsersOfTheLast30Days() throws SQLException {
        assertThat(run("top_users_by_cost_last_30_days")).containsExactly(
                "delta|u2|7|0.200000000",
                "delta|u1|3|0.100000000");
    }

    @Test
    void shouldCountEventsOfThisHourAndTheLast() throws SQLException {
        assertThat(run("events_this_hour_and_last")).containsExactly(
                "AI_COMPLETION|2",
                "CHAT_MESSAGE|12");
    }

    @Test
    void shouldCountDeadLettersPerDayAndReason() throws SQLException {
        assertThat(run("dead_letters_per_day")).containsExactly(
                "2026-03-02|INVALID|2",
                "2026-03-02|LATE|1",
                "2026-03-03|MALFORMED|1");
    }

    @Test
    void shouldTellHowFreshTheUsageTablesAre() throws SQLException {
        assertThat(run("usage_freshness")).containsExactly("2026-03-03T09:59:30Z|2026-03-03T10:00:02Z");
    }

    @Test
    void shouldTestEveryQueryOfTheFile() {
        assertThat(REPORTS.keySet()).containsExactly("usage_per_org_per_day", "usage_per_org_per_month",
                "cost_by_model", "top_orgs_by_cost", "top_users_by_cost_last_30_days", "events_this_hour_and_last",
                "dead_letters_per_day", "usage_freshness");
    }

    /** Runs the named query exactly as written; each row as its columns joined by '|'. */
    private static List<String> run(String name) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(REPORTS.get(name))) {
            ResultSetMetaData meta = rs.getMetaData();
            while (rs.next()) {
                List<String> columns = new ArrayList<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    boolean timestamptz = meta.getColumnType(i) == Types.TIMESTAMP_WITH_TIMEZONE
                            || "timestamptz".equals(meta.getColumnTypeName(i));
                    OffsetDateTime t = timestamptz ? rs.getObject(i, OffsetDateTime.class) : null;
                    columns.add(timestamptz ? (t == null ? "null" : t.toInstant().toString()) : rs.getString(i));
                }
                rows.add(String.join("|", columns));
            }
        }
        return rows;
    }

    private static OffsetDateTime utc(String isoDayOrInstant) {
        String text = isoDayOrInstant.length() == 10 ? isoDayOrInstant + "T00:00:00Z" : isoDayOrInstant;
        return Instant.parse(text).atOffset(ZoneOffset.UTC);
    }

    private static void orgDay(DSLContext db, String org, String feature, String day, long events, long in, long out,
                               String cost) {
        OffsetDateTime start = utc(day);
        db.insertInto(ORG_USAGE_DAILY)
                .set(ORG_USAGE_DAILY.ORG_ID, org).set(ORG_USAGE_DAILY.FEATURE, feature)
                .set(ORG_USAGE_DAILY.WINDOW_START, start)
                .set(ORG_USAGE_DAILY.EVENTS, events).set(ORG_USAGE_DAILY.QUANTITY, events)
                .set(ORG_USAGE_DAILY.INPUT_TOKENS, in).set(ORG_USAGE_DAILY.OUTPUT_TOKENS, out)
                .set(ORG_USAGE_DAILY.CACHED_INPUT_TOKENS, 0L).set(ORG_USAGE_DAILY.UNPRICED_EVENTS, 0L)
                .set(ORG_USAGE_DAILY.COST_USD, new BigDecimal(cost))
                .set(ORG_USAGE_DAILY.FIRST_EVENT_AT, start).set(ORG_USAGE_DAILY.LAST_EVENT_AT, start)
                .set(ORG_USAGE_DAILY.UPDATED_AT, start).set(ORG_USAGE_DAILY.VERSION, events)
                .execute();
    }

    private static void orgHour(DSLContext db, String org, String feature, Instant hour, long events) {
        OffsetDateTime start = hour.atOffset(ZoneOffset.UTC);
        db.insertInto(ORG_USAGE_HOURLY)
                .set(ORG_USAGE_HOURLY.ORG_ID, org).set(ORG_USAGE_HOURLY.FEATURE, feature)
                .set(ORG_USAGE_HOURLY.WINDOW_START, start)
                .set(ORG_USAGE_HOURLY.EVENTS, events).set(ORG_USAGE_HOURLY.QUANTITY, events)
                .set(ORG_USAGE_HOURLY.INPUT_TOKENS, 0L).set(ORG_USAGE_HOURLY.OUTPUT_TOKENS, 0L)
                .set(ORG_USAGE_HOURLY.CACHED_INPUT_TOKENS, 0L).set(ORG_USAGE_HOURLY.UNPRICED_EVENTS, 0L)
                .set(ORG_USAGE_HOURLY.COST_USD, BigDecimal.ZERO)
                .set(ORG_USAGE_HOURLY.FIRST_EVENT_AT, start).set(ORG_USAGE_HOURLY.LAST_EVENT_AT, start)
                .set(ORG_USAGE_HOURLY.UPDATED_AT, start).set(ORG_USAGE_HOURLY.VERSION, events)
                .execute();
    }

    private static void day(DSLContext db, String org, String user, String feature, String provider, String model,
                            String day, long events, long in, long cached, long out, long unpriced, String cost) {
        OffsetDateTime start = utc(day);
        db.insertInto(USAGE_DAILY)
                .set(USAGE_DAILY.ORG_ID, org).set(USAGE_DAILY.USER_ID, user).set(USAGE_DAILY.FEATURE, feature)
                .set(USAGE_DAILY.PROVIDER, provider).set(USAGE_DAILY.MODEL, model)
                .set(USAGE_DAILY.WINDOW_START, start)
                .set(USAGE_DAILY.EVENTS, events).set(USAGE_DAILY.QUANTITY, events)
                .set(USAGE_DAILY.INPUT_TOKENS, in).set(USAGE_DAILY.OUTPUT_TOKENS, out)
                .set(USAGE_DAILY.CACHED_INPUT_TOKENS, cached).set(USAGE_DAILY.UNPRICED_EVENTS, unpriced)
                .set(USAGE_DAILY.COST_USD, new BigDecimal(cost))
                .set(USAGE_DAILY.FIRST_EVENT_AT, start).set(USAGE_DAILY.LAST_EVENT_AT, start)
                .set(USAGE_DAILY.UPDATED_AT, start).set(USAGE_DAILY.VERSION, events)
                .execute();
    }

    private static void deadLetter(DSLContext db, String reason, long offset, String receivedAt) {
        db.insertInto(DEAD_LETTERS)
                .set(DEAD_LETTERS.REASON, reason).set(DEAD_LETTERS.STAGE, "validate")
                .set(DEAD_LETTERS.TOPIC, "metering.usage.events").set(DEAD_LETTERS.KAFKA_PARTITION, 0)
                .set(DEAD_LETTERS.KAFKA_OFFSET, offset).set(DEAD_LETTERS.RECEIVED_AT, utc(receivedAt))
                .execute();
    }

    private static void progress(DSLContext db, String topic, int partition, String newest, String written) {
        db.insertInto(SINK_PROGRESS)
                .set(SINK_PROGRESS.TOPIC, topic).set(SINK_PROGRESS.KAFKA_PARTITION, partition)
                .set(SINK_PROGRESS.NEXT_OFFSET, 100L)
                .set(SINK_PROGRESS.NEWEST_EVENT_AT, newest == null ? null : utc(newest))
                .set(SINK_PROGRESS.WRITTEN_AT, utc(written))
                .execute();
    }
}
