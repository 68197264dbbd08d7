-- V9: price book v2 (DESIGN.md §7.5): cache-write and reasoning tokens in every usage table, the
-- price version each logged event used, and the price book's cache-write price, context tiers and
-- service tiers.
--
-- ADD COLUMN with a constant default is a catalog change in PostgreSQL (no table rewrite), so the
-- existing rows read 0 and the sink's upserts go on unchanged while this runs.
-- cache_write_tokens: input tokens written to the provider's prompt cache, disjoint from
-- input_tokens and cached_input_tokens; reasoning_tokens: the part of output_tokens spent on
-- reasoning (reported, never added to output_tokens again).

ALTER TABLE metering.usage_hourly ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.usage_hourly ADD COLUMN reasoning_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.usage_daily ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.usage_daily ADD COLUMN reasoning_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.org_usage_hourly ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.org_usage_hourly ADD COLUMN reasoning_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.org_usage_daily ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.org_usage_daily ADD COLUMN reasoning_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.conversation_usage ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.conversation_usage ADD COLUMN reasoning_tokens bigint NOT NULL DEFAULT 0;

-- The event log: the event's new counts and service tier, and how its price version priced it
-- (price_effective_from is V7's): the context tier's threshold and the service tier whose
-- multiplier applied, NULL for the version's base and standard prices.
ALTER TABLE metering.usage_events ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.usage_events ADD COLUMN reasoning_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE metering.usage_events ADD COLUMN service_tier text;
ALTER TABLE metering.usage_events ADD COLUMN price_context_tier bigint;
ALTER TABLE metering.usage_events ADD COLUMN price_service_tier text;

-- Calendar months keep every column of usage_daily's totals (new columns appended, as CREATE OR
-- REPLACE VIEW requires).
/* [jooq ignore start] */
CREATE OR REPLACE VIEW metering.usage_monthly AS
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
       MAX(last_event_at)       AS last_event_at,
       SUM(cache_write_tokens)  AS cache_write_tokens,
       SUM(reasoning_tokens)    AS reasoning_tokens
FROM metering.usage_daily
GROUP BY org_id, CAST(date_trunc('month', window_start AT TIME ZONE 'UTC') AS date), feature, provider, model;
/* [jooq ignore stop] */

-- The price book: USD per 1M cache-write tokens (NULL: cache writes cost the input price), and a
-- version's context tiers [{aboveInputTokens, inputPer1mUsd, cachedInputPer1mUsd,
-- cacheWritePer1mUsd, outputPer1mUsd}] and service tiers [{serviceTier, multiplier}] as the JSON
-- of PUT /api/v1/prices (money and multipliers as decimal strings: exact). NULL: none.
/* [jooq ignore start] */
ALTER TABLE metering.model_prices ADD COLUMN cache_write_per_1m_usd numeric(24, 9)
    CONSTRAINT model_prices_cache_write_non_negative CHECK (cache_write_per_1m_usd IS NULL OR cache_write_per_1m_usd >= 0);
ALTER TABLE metering.model_prices ADD COLUMN context_tiers jsonb;
ALTER TABLE metering.model_prices ADD COLUMN service_tiers jsonb;
/* [jooq ignore stop] */
