-- Report and monitoring queries over the metering schema (docs/operations.md shows the monitoring SQL).
-- One query per block; each block starts with "-- name: <name>". ReportsIT runs every block
-- exactly as written against data it wrote and checks the exact result.
-- Times are UTC: window_start is the UTC start of an hour or a day.
-- Queries that depend on plans and limits (orgs approaching a limit, free orgs near their limit,
-- block rate) are in docs/operations.md, run as written by billing-api's ReadmeSqlIT.

-- name: usage_per_org_per_day
-- Usage per org and UTC day, all features, for March 2026 (org grain: one row per org, feature and day).
SELECT org_id,
       CAST(timezone('UTC', window_start) AS date) AS day,
       SUM(events)                                 AS events,
       SUM(quantity)                               AS quantity,
       SUM(input_tokens)                           AS input_tokens,
       SUM(output_tokens)                          AS output_tokens,
       SUM(cost_usd)                               AS cost_usd
FROM metering.org_usage_daily
WHERE window_start >= TIMESTAMPTZ '2026-03-01 00:00:00+00'
  AND window_start <  TIMESTAMPTZ '2026-04-01 00:00:00+00'
GROUP BY org_id, day
ORDER BY org_id, day;

-- name: usage_per_org_per_month
-- Usage per org and calendar month (UTC), February and March 2026, from the usage_monthly view.
SELECT org_id,
       month,
       SUM(events)        AS events,
       SUM(input_tokens)  AS input_tokens,
       SUM(output_tokens) AS output_tokens,
       SUM(cost_usd)      AS cost_usd
FROM metering.usage_monthly
WHERE month >= DATE '2026-02-01' AND month < DATE '2026-04-01'
GROUP BY org_id, month
ORDER BY org_id, month;

-- name: cost_by_model
-- Cost and tokens by provider and model for March 2026, most expensive first.
SELECT provider,
       model,
       SUM(events)              AS events,
       SUM(input_tokens)        AS input_tokens,
       SUM(cached_input_tokens) AS cached_input_tokens,
       SUM(output_tokens)       AS output_tokens,
       SUM(unpriced_events)     AS unpriced_events,
       SUM(cost_usd)            AS cost_usd
FROM metering.usage_daily
WHERE window_start >= TIMESTAMPTZ '2026-03-01 00:00:00+00'
  AND window_start <  TIMESTAMPTZ '2026-04-01 00:00:00+00'
  AND model <> ''
GROUP BY provider, model
ORDER BY cost_usd DESC, provider, model;

-- name: top_orgs_by_cost
-- The 10 orgs that cost the most in March 2026.
SELECT org_id,
       SUM(cost_usd)                        AS cost_usd,
       SUM(events)                          AS events,
       SUM(input_tokens + output_tokens)    AS tokens
FROM metering.org_usage_daily
WHERE window_start >= TIMESTAMPTZ '2026-03-01 00:00:00+00'
  AND window_start <  TIMESTAMPTZ '2026-04-01 00:00:00+00'
GROUP BY org_id
ORDER BY cost_usd DESC, org_id
LIMIT 10;

-- name: top_users_by_cost_last_30_days
-- Seed 001's "top users by usage": users (within their org) by cost over the last 30 UTC days.
SELECT org_id,
       user_id,
       SUM(events)   AS messages,
       SUM(cost_usd) AS cost_usd
FROM metering.usage_daily
WHERE window_start >= date_trunc('day', timezone('UTC', now())) AT TIME ZONE 'UTC' - INTERVAL '30 days'
  AND user_id <> ''
GROUP BY org_id, user_id
ORDER BY cost_usd DESC, org_id, user_id
LIMIT 20;

-- name: events_this_hour_and_last
-- Seed 002's "usage events in the last hour", per feature: the current UTC hour and the one before.
SELECT feature,
       SUM(events) AS events
FROM metering.org_usage_hourly
WHERE window_start >= date_trunc('hour', timezone('UTC', now())) AT TIME ZONE 'UTC' - INTERVAL '1 hour'
GROUP BY feature
ORDER BY feature;

-- name: dead_letters_per_day
-- What the pipeline refused, per UTC day and reason (never silently dropped).
SELECT CAST(timezone('UTC', received_at) AS date) AS day,
       reason,
       COUNT(*)                                   AS records
FROM metering.dead_letters
GROUP BY day, reason
ORDER BY day, reason;

-- name: usage_freshness
-- How current the usage tables are: the newest event time written from every aggregates
-- partition (the oldest of those is the safe "usage as of") and the last write.
SELECT MIN(newest_event_at) AS usage_as_of,
       MAX(written_at)      AS last_write
FROM metering.sink_progress
WHERE topic = 'metering.usage.aggregates';
