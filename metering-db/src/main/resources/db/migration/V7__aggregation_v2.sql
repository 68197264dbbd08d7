-- V7: aggregation v2 (DESIGN.md §5, §6): the conversation grain and the per-event log.
--
-- usage_daily keeps its columns and meaning; from this version the sink derives it from
-- usage_hourly in the same transaction as the hourly rows (the stream emits detail rows per hour only).

-- Conversation grain (org, conversation, feature): ABSOLUTE totals over the conversation's whole
-- life, written by metering-sink like the window tables (monotonic version guard). A conversation
-- idle for METERING_CONVERSATION_TTL (default 30 days) is deleted; its next event starts it afresh.
CREATE TABLE metering.conversation_usage (
    org_id              text           NOT NULL,
    conversation_id     text           NOT NULL,
    feature             text           NOT NULL,
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
    CONSTRAINT conversation_usage_pk PRIMARY KEY (org_id, conversation_id, feature)
    /* [jooq ignore stop] */
);
-- idle conversations, oldest first (TTL clean-up)
CREATE INDEX conversation_usage_last_event_idx ON metering.conversation_usage (last_event_at);

/* [jooq ignore start] */
ALTER TABLE metering.conversation_usage SET (fillfactor = 70);
/* [jooq ignore stop] */

-- The event log (optional, METERING_EVENT_LOG=on): every counted event once, after dedupe and
-- pricing, with its cost. Partitioned by UTC day of occurred_at; the sink creates a day's
-- partition before its first row and drops whole partitions past METERING_EVENT_LOG_RETENTION
-- (default 35 days). Absent dimensions are NULL, as in the event.
CREATE TABLE metering.usage_events (
    event_id             text           NOT NULL,
    org_id               text           NOT NULL,
    occurred_at          timestamptz    NOT NULL,
    feature              text           NOT NULL,
    user_id              text,
    conversation_id      text,
    provider             text,
    model                text,
    source               text,
    quantity             bigint         NOT NULL,
    input_tokens         bigint         NOT NULL,
    output_tokens        bigint         NOT NULL,
    cached_input_tokens  bigint         NOT NULL,
    cost_usd             numeric(24, 9) NOT NULL,
    priced               boolean        NOT NULL,
    price_effective_from timestamptz,
    recorded_at          timestamptz    NOT NULL
)
/* [jooq ignore start] */
PARTITION BY RANGE (occurred_at)
/* [jooq ignore stop] */
;
-- one row per counted event (replays write nothing twice); a partitioned table's unique key
-- must contain the partition key, and an event's occurred_at never changes
/* [jooq ignore start] */
CREATE UNIQUE INDEX usage_events_event_uk ON metering.usage_events (org_id, event_id, occurred_at);
CREATE INDEX usage_events_org_time_idx ON metering.usage_events (org_id, occurred_at);
/* [jooq ignore stop] */
