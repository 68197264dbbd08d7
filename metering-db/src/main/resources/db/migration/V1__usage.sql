-- V1: usage windows, prices, dead letters, late events and sink progress (DESIGN.md §6).
-- Contract: schema `metering`. Never edit this file once it has landed; add V<n+1>__*.sql instead.
--
-- Conventions
--   * Keys and indexes on text columns sit between jOOQ ignore markers: jOOQ's code generator
--     (DDLDatabase) replays this script on H2, which stores text as CLOB and cannot index it.
--     PostgreSQL runs every line; the generated classes simply do not know those keys.
--   * Absent dimensions are '' (never NULL), so they can be part of a primary key.
--   * Money is numeric(24,9) USD: exact, 9 decimals (nano-USD); never floating point.
--   * Window rows hold ABSOLUTE totals written by metering-sink with a monotonic guard on
--     `version` (ON CONFLICT ... DO UPDATE ... WHERE excluded.version > t.version), so replays
--     and reordering never double count.
--   * Every window_start is the UTC start of a tumbling window (hour or day).

CREATE SCHEMA IF NOT EXISTS metering;

-- Detail grain (org, user, feature, provider, model) per UTC hour.
-- The primary key starts with (org_id, window_start): "this org between t1 and t2" is one range scan.
CREATE TABLE metering.usage_hourly (
    org_id              text           NOT NULL,
    user_id             text           NOT NULL DEFAULT '',
    feature             text           NOT NULL,
    provider            text           NOT NULL DEFAULT '',
    model               text           NOT NULL DEFAULT '',
    window_start        timestamptz    NOT NULL,
    events              bigint         NOT NULL,
    quantity            bigint         NOT NULL,
    input_tokens        bigint         NOT NULL,
    output_tokens       bigint         NOT NULL,
    cached_input_tokens bigint         NOT NULL,
    unpriced_events     bigint         NOT NULL,
    cost_usd            numeric(24, 9) NOT NULL,
    first_event_at      timestamptz    NOT NULL,
    last_event_at       timestamptz    NOT NULL,
    updated_at          timestamptz    NOT NULL,
    version             bigint         NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT usage_hourly_pk PRIMARY KEY (org_id, window_start, user_id, feature, provider, model)
    /* [jooq ignore stop] */
);
-- per-user checks and reports (scope: user): org + user + time range
/* [jooq ignore start] */
CREATE INDEX usage_hourly_org_user_window_idx ON metering.usage_hourly (org_id, user_id, window_start);
/* [jooq ignore stop] */
-- cross-org reports over a time range (top orgs, cost by model)
/* [jooq ignore start] */
CREATE INDEX usage_hourly_window_idx ON metering.usage_hourly (window_start);
/* [jooq ignore stop] */

-- Detail grain per UTC day: same columns and keys as usage_hourly.
CREATE TABLE metering.usage_daily (
    org_id              text           NOT NULL,
    user_id             text           NOT NULL DEFAULT '',
    feature             text           NOT NULL,
    provider            text           NOT NULL DEFAULT '',
    model               text           NOT NULL DEFAULT '',
    window_start        timestamptz    NOT NULL,
    events              bigint         NOT NULL,
    quantity            bigint         NOT NULL,
    input_tokens        bigint         NOT NULL,
    output_tokens       bigint         NOT NULL,
    cached_input_tokens bigint         NOT NULL,
    unpriced_events     bigint         NOT NULL,
    cost_usd            numeric(24, 9) NOT NULL,
    first_event_at      timestamptz    NOT NULL,
    last_event_at       timestamptz    NOT NULL,
    updated_at          timestamptz    NOT NULL,
    version             bigint         NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT usage_daily_pk PRIMARY KEY (org_id, window_start, user_id, feature, provider, model)
    /* [jooq ignore stop] */
);
/* [jooq ignore start] */
CREATE INDEX usage_daily_org_user_window_idx ON metering.usage_daily (org_id, user_id, window_start);
CREATE INDEX usage_daily_window_idx ON metering.usage_daily (window_start);
/* [jooq ignore stop] */

-- Org grain (org, feature) per UTC hour: what a usage check reads. A check for one feature over
-- a window is a range scan on the primary key; a check over all features uses the second index.
CREATE TABLE metering.org_usage_hourly (
    org_id              text           NOT NULL,
    feature             text           NOT NULL,
    window_start        timestamptz    NOT NULL,
    events              bigint         NOT NULL,
    quantity            bigint         NOT NULL,
    input_tokens        bigint         NOT NULL,
    output_tokens       bigint         NOT NULL,
    cached_input_tokens bigint         NOT NULL,
    unpriced_events     bigint         NOT NULL,
    cost_usd            numeric(24, 9) NOT NULL,
    first_event_at      timestamptz    NOT NULL,
    last_event_at       timestamptz    NOT NULL,
    updated_at          timestamptz    NOT NULL,
    version             bigint         NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT org_usage_hourly_pk PRIMARY KEY (org_id, feature, window_start)
    /* [jooq ignore stop] */
);
/* [jooq ignore start] */
CREATE INDEX org_usage_hourly_org_window_idx ON metering.org_usage_hourly (org_id, window_start);
/* [jooq ignore stop] */

-- Org grain per UTC day.
CREATE TABLE metering.org_usage_daily (
    org_id              text           NOT NULL,
    feature             text           NOT NULL,
    window_start        timestamptz    NOT NULL,
    events              bigint         NOT NULL,
    quantity            bigint         NOT NULL,
    input_tokens        bigint         NOT NULL,
    output_tokens       bigint         NOT NULL,
    cached_input_tokens bigint         NOT NULL,
    unpriced_events     bigint         NOT NULL,
    cost_usd            numeric(24, 9) NOT NULL,
    first_event_at      timestamptz    NOT NULL,
    last_event_at       timestamptz    NOT NULL,
    updated_at          timestamptz    NOT NULL,
    version             bigint         NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT org_usage_daily_pk PRIMARY KEY (org_id, feature, window_start)
    /* [jooq ignore stop] */
);
/* [jooq ignore start] */
CREATE INDEX org_usage_daily_org_window_idx ON metering.org_usage_daily (org_id, window_start);
CREATE INDEX org_usage_daily_window_idx ON metering.org_usage_daily (window_start);
/* [jooq ignore stop] */

-- Calendar months (UTC) from the daily detail rows. `month` is the first day of the month.
-- jOOQ's parser (DDLDatabase codegen) cannot read AT TIME ZONE, so the view is hidden from it:
-- query it with SQL (see sql/reports.sql) or DSL.table("metering.usage_monthly").
/* [jooq ignore start] */
CREATE VIEW metering.usage_monthly AS
SELECT org_id,
       CAST(date_trunc('month', window_start AT TIME ZONE 'UTC') AS date) AS month,
       feature,
       provider,
       model,
       SUM(events)              AS events,
       SUM(quantity)            AS quantity,
       SUM(input_tokens)        AS input_tokens,
       SUM(output_tokens)       AS output_tokens,
       SUM(cached_input_tokens) AS cached_input_tokens,
       SUM(unpriced_events)     AS unpriced_events,
       SUM(cost_usd)            AS cost_usd,
       MIN(first_event_at)      AS first_event_at,
       MAX(last_event_at)       AS last_event_at
FROM metering.usage_daily
GROUP BY org_id, CAST(date_trunc('month', window_start AT TIME ZONE 'UTC') AS date), feature, provider, model;
/* [jooq ignore stop] */

-- The price book, versioned: one row per (provider, model, effective_from). The price in force at
-- time t is the row with the greatest effective_from <= t. Prices per 1,000,000 tokens, in USD.
CREATE TABLE metering.model_prices (
    provider                text           NOT NULL,
    model                   text           NOT NULL,
    effective_from          timestamptz    NOT NULL,
    input_per_1m_usd        numeric(24, 9) NOT NULL,
    cached_input_per_1m_usd numeric(24, 9) NOT NULL,
    output_per_1m_usd       numeric(24, 9) NOT NULL,
    unit_usd                numeric(24, 9),
    created_at              timestamptz    NOT NULL DEFAULT now()
    /* [jooq ignore start] */,
    CONSTRAINT model_prices_pk PRIMARY KEY (provider, model, effective_from)
    /* [jooq ignore stop] */,
    CONSTRAINT model_prices_non_negative CHECK (input_per_1m_usd >= 0 AND cached_input_per_1m_usd >= 0
        AND output_per_1m_usd >= 0 AND (unit_usd IS NULL OR unit_usd >= 0))
);

-- What the pipeline refused (metering.usage.dlq, and records the sink itself could never write).
-- topic / kafka_partition / kafka_offset / record_timestamp are the ORIGINAL record's coordinates
-- (from the dead-letter headers; the DLQ record's own when a header is missing); unique, so
-- replaying the DLQ inserts nothing twice.
CREATE TABLE metering.dead_letters (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    reason           text        NOT NULL,
    message          text,
    stage            text,
    topic            text        NOT NULL,
    kafka_partition  integer     NOT NULL,
    kafka_offset     bigint      NOT NULL,
    record_timestamp timestamptz,
    record_key       bytea,
    payload          bytea,
    received_at      timestamptz NOT NULL,
    CONSTRAINT dead_letters_pk PRIMARY KEY (id)
    /* [jooq ignore start] */,
    CONSTRAINT dead_letters_origin_uk UNIQUE (topic, kafka_partition, kafka_offset)
    /* [jooq ignore stop] */
);
/* [jooq ignore start] */
CREATE INDEX dead_letters_reason_received_idx ON metering.dead_letters (reason, received_at);
CREATE INDEX dead_letters_received_idx ON metering.dead_letters (received_at);
/* [jooq ignore stop] */

-- Events that arrived later than the aggregation grace period (reason LATE): the decoded event when
-- its bytes decode (event columns NULL otherwise). Same origin coordinates and uniqueness as dead_letters.
CREATE TABLE metering.late_events (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    topic               text        NOT NULL,
    kafka_partition     integer     NOT NULL,
    kafka_offset        bigint      NOT NULL,
    event_id            text,
    org_id              text,
    occurred_at         timestamptz,
    feature             text,
    user_id             text,
    conversation_id     text,
    provider            text,
    model               text,
    source              text,
    quantity            bigint,
    input_tokens        bigint,
    output_tokens       bigint,
    cached_input_tokens bigint,
    cost_usd            numeric(24, 9),
    received_at         timestamptz NOT NULL,
    CONSTRAINT late_events_pk PRIMARY KEY (id)
    /* [jooq ignore start] */,
    CONSTRAINT late_events_origin_uk UNIQUE (topic, kafka_partition, kafka_offset)
    /* [jooq ignore stop] */
);
/* [jooq ignore start] */
CREATE INDEX late_events_org_occurred_idx ON metering.late_events (org_id, occurred_at);
/* [jooq ignore stop] */

-- How far the sink has written, per input partition, in the same transaction as the rows.
-- newest_event_at: the greatest last_event_at written from that partition (never decreases);
-- written_at: wall time of that write. The API derives usageAsOf from these rows.
CREATE TABLE metering.sink_progress (
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    next_offset     bigint      NOT NULL,
    newest_event_at timestamptz,
    written_at      timestamptz NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT sink_progress_pk PRIMARY KEY (topic, kafka_partition)
    /* [jooq ignore stop] */
);
