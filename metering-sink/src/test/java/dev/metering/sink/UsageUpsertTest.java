package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UsageUpsertTest {

    @Test
    void shouldRenderOneArrayStatementPerTableWithTheVersionGuard() {
        String sql = UsageUpsert.render(UsageUpsert.Target.DETAIL_HOUR);

        assertThat(sql).isEqualTo("insert into \"metering\".\"usage_hourly\" as t (\"org_id\", \"window_start\", "
                + "\"user_id\", \"feature\", \"provider\", \"model\", \"events\", \"quantity\", \"input_tokens\", "
                + "\"output_tokens\", \"cached_input_tokens\", \"unpriced_events\", \"cost_usd\", \"first_event_at\", "
                + "\"last_event_at\", \"updated_at\", \"version\", \"cache_write_tokens\", \"reasoning_tokens\") "
                + "select u.\"org_id\", u.\"window_start\", u.\"user_id\", u.\"feature\", u.\"provider\", u.\"model\", "
                + "u.\"events\", u.\"quantity\", u.\"input_tokens\", u.\"output_tokens\", u.\"cached_input_tokens\", "
                + "u.\"unpriced_events\", u.\"cost_usd\", u.\"first_event_at\", u.\"last_event_at\", ?::timestamptz, "
                + "u.\"version\", u.\"cache_write_tokens\", u.\"reasoning_tokens\" "
                + "from unnest(?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], "
                + "?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::numeric[], ?::timestamptz[], "
                + "?::timestamptz[], ?::bigint[], ?::bigint[], ?::bigint[]) "
                + "as u(\"org_id\", \"window_start\", \"user_id\", \"feature\", \"provider\", \"model\", \"events\", "
                + "\"quantity\", \"input_tokens\", \"output_tokens\", \"cached_input_tokens\", \"unpriced_events\", "
                + "\"cost_usd\", \"first_event_at\", \"last_event_at\", \"version\", \"cache_write_tokens\", "
                + "\"reasoning_tokens\") "
                + "on conflict (\"org_id\", \"window_start\", \"user_id\", \"feature\", \"provider\", \"model\") "
                + "do update set \"events\" = excluded.\"events\", \"quantity\" = excluded.\"quantity\", "
                + "\"input_tokens\" = excluded.\"input_tokens\", \"output_tokens\" = excluded.\"output_tokens\", "
                + "\"cached_input_tokens\" = excluded.\"cached_input_tokens\", "
                + "\"unpriced_events\" = excluded.\"unpriced_events\", \"cost_usd\" = excluded.\"cost_usd\", "
                + "\"first_event_at\" = excluded.\"first_event_at\", \"last_event_at\" = excluded.\"last_event_at\", "
                + "\"updated_at\" = excluded.\"updated_at\", \"version\" = excluded.\"version\", "
                + "\"cache_write_tokens\" = excluded.\"cache_write_tokens\", "
                + "\"reasoning_tokens\" = excluded.\"reasoning_tokens\" "
                + "where t.\"version\" < excluded.\"version\"");
    }

    @Test
    void shouldKeyOrgTablesByOrgFeatureAndWindow() {
        String sql = UsageUpsert.render(UsageUpsert.Target.ORG_DAY);

        assertThat(sql).startsWith("insert into \"metering\".\"org_usage_daily\" as t (\"org_id\", \"feature\", "
                + "\"window_start\", \"events\"");
        assertThat(sql).contains("from unnest(?::text[], ?::text[], ?::timestamptz[], ?::bigint[]");
        assertThat(sql).contains("on conflict (\"org_id\", \"feature\", \"window_start\") do update set");
        // updated_at (one scalar) + 15 arrays, whatever the number of rows
        assertThat(sql.chars().filter(c -> c == '?').count()).isEqualTo(16);
    }
}
