-- V5: runtime enforcement (DESIGN.md §7.5, owned by billing-api) and lifetime usage totals for
-- `window: lifetime` limits. Never edit once landed.

-- The global enforcement mode and canary percent. One row (id = 1), seeded from
-- METERING_ENFORCEMENT / METERING_ENFORCEMENT_CANARY_PERCENT by the first API instance that
-- starts; from then on only PUT /api/v1/enforcement changes it. `revision` grows on every change
-- of this row or of org_enforcement, so each API instance polls one row to know whether to reload.
CREATE TABLE metering.enforcement_settings (
    id             integer     NOT NULL,
    mode           text        NOT NULL,
    canary_percent integer     NOT NULL,
    revision       bigint      NOT NULL,
    updated_at     timestamptz NOT NULL,
    updated_by     text        NOT NULL,
    CONSTRAINT enforcement_settings_pk PRIMARY KEY (id),
    CONSTRAINT enforcement_settings_single_row CHECK (id = 1),
    CONSTRAINT enforcement_settings_mode_check CHECK (mode IN ('off', 'shadow', 'enforce')),
    CONSTRAINT enforcement_settings_canary_check CHECK (canary_percent BETWEEN 0 AND 100)
);

-- One org's mode, set without a subscription (PUT /api/v1/orgs/{orgId}/enforcement).
CREATE TABLE metering.org_enforcement (
    org_id     text        NOT NULL,
    mode       text        NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text        NOT NULL,
    CONSTRAINT org_enforcement_mode_check CHECK (mode IN ('off', 'shadow', 'enforce'))
    /* [jooq ignore start] */,
    CONSTRAINT org_enforcement_pk PRIMARY KEY (org_id)
    /* [jooq ignore stop] */
);

-- Every enforcement change: who (API key id; 'environment' for the initial value), when, what.
-- org_id NULL: the global setting. mode NULL with an org: the org's override was removed.
CREATE TABLE metering.enforcement_changes (
    id                      bigint GENERATED ALWAYS AS IDENTITY,
    changed_at              timestamptz NOT NULL,
    changed_by              text        NOT NULL,
    org_id                  text,
    mode                    text,
    canary_percent          integer,
    previous_mode           text,
    previous_canary_percent integer,
    CONSTRAINT enforcement_changes_pk PRIMARY KEY (id)
);

-- Lifetime totals, kept by triggers on the hourly tables (below): a lifetime check reads one
-- row per feature instead of every window since the first event. Same totals columns as the
-- window tables; detail grain per (org, user, feature), org grain per (org, feature).
CREATE TABLE metering.usage_lifetime (
    org_id              text           NOT NULL,
    user_id             text           NOT NULL,
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
    updated_at          timestamptz    NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT usage_lifetime_pk PRIMARY KEY (org_id, user_id, feature)
    /* [jooq ignore stop] */
);

CREATE TABLE metering.org_usage_lifetime (
    org_id              text           NOT NULL,
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
    updated_at          timestamptz    NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT org_usage_lifetime_pk PRIMARY KEY (org_id, feature)
    /* [jooq ignore stop] */
);

/* [jooq ignore start] */
-- Existing usage, once.
INSERT INTO metering.usage_lifetime
SELECT org_id, user_id, feature, SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens),
       SUM(cached_input_tokens), SUM(unpriced_events), SUM(cost_usd), MIN(first_event_at), MAX(last_event_at), now()
FROM metering.usage_hourly
GROUP BY org_id, user_id, feature;

INSERT INTO metering.org_usage_lifetime
SELECT org_id, feature, SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens),
       SUM(cached_input_tokens), SUM(unpriced_events), SUM(cost_usd), MIN(first_event_at), MAX(last_event_at), now()
FROM metering.org_usage_hourly
GROUP BY org_id, feature;

-- Statement-level triggers with transition tables: the sink writes each table with one
-- INSERT ... ON CONFLICT DO UPDATE per batch, so this adds one set-based upsert per batch, not
-- one per row. Hourly rows hold absolute totals; the lifetime row gains, per (org, user,
-- feature), the sum of the new versions of the rows the statement inserted or updated minus the
-- sum of their old versions (rows the version guard skipped are in neither transition table).
-- Deletions (retention) do not lower a lifetime. Lifetime rows are upserted in key order, a fixed
-- lock order across concurrent sink batches. Room on each page for in-place (HOT) updates, as V3.
ALTER TABLE metering.usage_lifetime SET (fillfactor = 70);
ALTER TABLE metering.org_usage_lifetime SET (fillfactor = 70);

CREATE FUNCTION metering.usage_lifetime_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO metering.usage_lifetime AS l
        SELECT org_id, user_id, feature,
               SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens),
               SUM(cached_input_tokens), SUM(unpriced_events), SUM(cost_usd),
               MIN(first_event_at), MAX(last_event_at), now()
        FROM (SELECT org_id, user_id, feature, events, quantity, input_tokens, output_tokens,
                     cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at FROM new_rows) d
        GROUP BY org_id, user_id, feature
        ORDER BY org_id, user_id, feature
        ON CONFLICT (org_id, user_id, feature) DO UPDATE SET
            events = l.events + excluded.events, quantity = l.quantity + excluded.quantity,
            input_tokens = l.input_tokens + excluded.input_tokens,
            output_tokens = l.output_tokens + excluded.output_tokens,
            cached_input_tokens = l.cached_input_tokens + excluded.cached_input_tokens,
            unpriced_events = l.unpriced_events + excluded.unpriced_events,
            cost_usd = l.cost_usd + excluded.cost_usd,
            first_event_at = LEAST(l.first_event_at, excluded.first_event_at),
            last_event_at = GREATEST(l.last_event_at, excluded.last_event_at),
            updated_at = excluded.updated_at;
    ELSE
        -- new versions minus old versions, summed per key: no join of the transition tables
        INSERT INTO metering.usage_lifetime AS l
        SELECT org_id, user_id, feature,
               SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens),
               SUM(cached_input_tokens), SUM(unpriced_events), SUM(cost_usd),
               MIN(first_event_at), MAX(last_event_at), now()
        FROM (SELECT org_id, user_id, feature, events, quantity, input_tokens, output_tokens,
                     cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at FROM new_rows
              UNION ALL
              SELECT org_id, user_id, feature, -events, -quantity, -input_tokens, -output_tokens,
                     -cached_input_tokens, -unpriced_events, -cost_usd, NULL, NULL FROM old_rows) d
        GROUP BY org_id, user_id, feature
        ORDER BY org_id, user_id, feature
        ON CONFLICT (org_id, user_id, feature) DO UPDATE SET
            events = l.events + excluded.events, quantity = l.quantity + excluded.quantity,
            input_tokens = l.input_tokens + excluded.input_tokens,
            output_tokens = l.output_tokens + excluded.output_tokens,
            cached_input_tokens = l.cached_input_tokens + excluded.cached_input_tokens,
            unpriced_events = l.unpriced_events + excluded.unpriced_events,
            cost_usd = l.cost_usd + excluded.cost_usd,
            first_event_at = LEAST(l.first_event_at, excluded.first_event_at),
            last_event_at = GREATEST(l.last_event_at, excluded.last_event_at),
            updated_at = excluded.updated_at;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION metering.org_usage_lifetime_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO metering.org_usage_lifetime AS l
        SELECT org_id, feature,
               SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens),
               SUM(cached_input_tokens), SUM(unpriced_events), SUM(cost_usd),
               MIN(first_event_at), MAX(last_event_at), now()
        FROM (SELECT org_id, feature, events, quantity, input_tokens, output_tokens,
                     cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at FROM new_rows) d
        GROUP BY org_id, feature
        ORDER BY org_id, feature
        ON CONFLICT (org_id, feature) DO UPDATE SET
            events = l.events + excluded.events, quantity = l.quantity + excluded.quantity,
            input_tokens = l.input_tokens + excluded.input_tokens,
            output_tokens = l.output_tokens + excluded.output_tokens,
            cached_input_tokens = l.cached_input_tokens + excluded.cached_input_tokens,
            unpriced_events = l.unpriced_events + excluded.unpriced_events,
            cost_usd = l.cost_usd + excluded.cost_usd,
            first_event_at = LEAST(l.first_event_at, excluded.first_event_at),
            last_event_at = GREATEST(l.last_event_at, excluded.last_event_at),
            updated_at = excluded.updated_at;
    ELSE
        -- new versions minus old versions, summed per key: no join of the transition tables
        INSERT INTO metering.org_usage_lifetime AS l
        SELECT org_id, feature,
               SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens),
               SUM(cached_input_tokens), SUM(unpriced_events), SUM(cost_usd),
               MIN(first_event_at), MAX(last_event_at), now()
        FROM (SELECT org_id, feature, events, quantity, input_tokens, output_tokens,
                     cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at FROM new_rows
              UNION ALL
              SELECT org_id, feature, -events, -quantity, -input_tokens, -output_tokens,
                     -cached_input_tokens, -unpriced_events, -cost_usd, NULL, NULL FROM old_rows) d
        GROUP BY org_id, feature
        ORDER BY org_id, feature
        ON CONFLICT (org_id, feature) DO UPDATE SET
            events = l.events + excluded.events, quantity = l.quantity + excluded.quantity,
            input_tokens = l.input_tokens + excluded.input_tokens,
            output_tokens = l.output_tokens + excluded.output_tokens,
            cached_input_tokens = l.cached_input_tokens + excluded.cached_input_tokens,
            unpriced_events = l.unpriced_events + excluded.unpriced_events,
            cost_usd = l.cost_usd + excluded.cost_usd,
            first_event_at = LEAST(l.first_event_at, excluded.first_event_at),
            last_event_at = GREATEST(l.last_event_at, excluded.last_event_at),
            updated_at = excluded.updated_at;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER usage_hourly_lifetime_ins AFTER INSERT ON metering.usage_hourly
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_lifetime_add();
CREATE TRIGGER usage_hourly_lifetime_upd AFTER UPDATE ON metering.usage_hourly
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_lifetime_add();
CREATE TRIGGER org_usage_hourly_lifetime_ins AFTER INSERT ON metering.org_usage_hourly
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.org_usage_lifetime_add();
CREATE TRIGGER org_usage_hourly_lifetime_upd AFTER UPDATE ON metering.org_usage_hourly
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION metering.org_usage_lifetime_add();
/* [jooq ignore stop] */
