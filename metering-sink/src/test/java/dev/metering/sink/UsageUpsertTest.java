package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UsageUpsertTest {

    @Test
    void shouldRenderOneMultiRowStatementWithTheVersionGuard() {
        String sql = UsageUpsert.render(UsageUpsert.Target.DETAIL_HOUR, 3);

        assertThat(sql).startsWith("insert into \"metering\".\"usage_hourly\"");
        assertThat(sql.split("\\), \\(")).hasSize(3);
        assertThat(sql.chars().filter(c -> c == '?').count()).isEqualTo(3 * 17);
        assertThat(sql).contains("on conflict (\"org_id\", \"window_start\", \"user_id\", \"feature\", "
                + "\"provider\", \"model\") do update set");
        assertThat(sql).endsWith("where \"metering\".\"usage_hourly\".\"version\" < excluded.\"version\"");
    }

    @Test
    void shouldKeyOrgTablesByOrgFeatureAndWindow() {
        String sql = UsageUpsert.render(UsageUpsert.Target.ORG_DAY, 1);

        assertThat(sql).startsWith("insert into \"metering\".\"org_usage_daily\"");
        assertThat(sql).contains("on conflict (\"org_id\", \"feature\", \"window_start\")");
        assertThat(sql.chars().filter(c -> c == '?').count()).isEqualTo(14);
    }

    @Test
    void shouldSendAsFewStatementsAsTheBindLimitAllows() {
        assertThat(UsageUpsert.statementsFor(1)).isEqualTo(1);
        assertThat(UsageUpsert.statementsFor(1024)).isEqualTo(1);
        assertThat(UsageUpsert.statementsFor(1025)).isEqualTo(2);
        assertThat(UsageUpsert.statementsFor(5000)).isEqualTo(5);
    }
}
