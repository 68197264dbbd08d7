-- V2: billing: plan catalog versions, subscriptions, credit grants, api keys, check outcomes and
-- the org_period_usage view (DESIGN.md §6, §7). Owned by billing-api. Never edit once landed.
--
-- Same conventions as V1: keys and indexes on text columns (and everything jOOQ's DDLDatabase
-- replay on H2 cannot read) sit between jOOQ ignore markers; money is numeric(24,9) USD.
-- `revision` columns take values from one sequence on every write, so API instances find what
-- changed since their last look with one indexed query and refresh their caches (< 1 s).

CREATE SEQUENCE metering.billing_revision;

-- Every catalog ever applied (PUT /api/v1/plans), as submitted. The highest version is in force.
CREATE TABLE metering.plan_catalogs (
    version      bigint      NOT NULL,
    format       text        NOT NULL,
    source       text        NOT NULL,
    default_plan text        NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   text,
    CONSTRAINT plan_catalogs_pk PRIMARY KEY (version),
    CONSTRAINT plan_catalogs_format_check CHECK (format IN ('yaml', 'json'))
);

-- The plans and limits of each catalog version, relational for SQL reports
-- (e.g. orgs above 80% of their limit). The API reads the catalog source above.
CREATE TABLE metering.plans (
    catalog_version    bigint         NOT NULL,
    plan_id            text           NOT NULL,
    name               text           NOT NULL,
    price_usd          numeric(24, 9) NOT NULL,
    features           text,
    prepaid            boolean        NOT NULL,
    min_balance_usd    numeric(24, 9) NOT NULL,
    welcome_credit_usd numeric(24, 9) NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT plans_pk PRIMARY KEY (catalog_version, plan_id)
    /* [jooq ignore stop] */
);

CREATE TABLE metering.plan_limits (
    catalog_version bigint         NOT NULL,
    plan_id         text           NOT NULL,
    limit_id        text           NOT NULL,
    ordinal         integer        NOT NULL,
    feature         text,
    meter           text           NOT NULL,
    time_window     text           NOT NULL,
    scope           text           NOT NULL,
    max             numeric(24, 9) NOT NULL,
    per_seat        boolean        NOT NULL,
    enforcement     text           NOT NULL,
    code            text           NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT plan_limits_pk PRIMARY KEY (catalog_version, plan_id, limit_id)
    /* [jooq ignore stop] */
);

-- One subscription per org. Orgs without a row are on the catalog's defaultPlan.
CREATE TABLE metering.subscriptions (
    org_id       text        NOT NULL,
    plan_id      text        NOT NULL,
    status       text        NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    seats        integer     NOT NULL,
    enforcement  text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    revision     bigint      NOT NULL,
    CONSTRAINT subscriptions_status_check
        CHECK (status IN ('active', 'trialing', 'suspended', 'expired', 'canceled')),
    CONSTRAINT subscriptions_seats_check CHECK (seats >= 1),
    CONSTRAINT subscriptions_period_check CHECK (period_end > period_start),
    CONSTRAINT subscriptions_enforcement_check CHECK (enforcement IN ('off', 'shadow', 'enforce'))
    /* [jooq ignore start] */,
    CONSTRAINT subscriptions_pk PRIMARY KEY (org_id)
    /* [jooq ignore stop] */
);
CREATE INDEX subscriptions_revision_idx ON metering.subscriptions (revision);

-- Per-org replacements of a limit's max (seed 003: enterprise budget per org).
CREATE TABLE metering.subscription_overrides (
    org_id   text           NOT NULL,
    limit_id text           NOT NULL,
    max      numeric(24, 9) NOT NULL,
    CONSTRAINT subscription_overrides_max_check CHECK (max >= 0)
    /* [jooq ignore start] */,
    CONSTRAINT subscription_overrides_pk PRIMARY KEY (org_id, limit_id)
    /* [jooq ignore stop] */
);

-- Prepaid credits. welcome_plan_id is set on welcome credits: at most one per (org, plan).
CREATE TABLE metering.credit_grants (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    org_id          text           NOT NULL,
    amount_usd      numeric(24, 9) NOT NULL,
    reason          text           NOT NULL,
    granted_at      timestamptz    NOT NULL,
    expires_at      timestamptz,
    welcome_plan_id text,
    revision        bigint         NOT NULL,
    CONSTRAINT credit_grants_pk PRIMARY KEY (id),
    CONSTRAINT credit_grants_amount_check CHECK (amount_usd > 0)
);
CREATE INDEX credit_grants_revision_idx ON metering.credit_grants (revision);
/* [jooq ignore start] */
CREATE INDEX credit_grants_org_idx ON metering.credit_grants (org_id);
CREATE UNIQUE INDEX credit_grants_welcome_once_uk ON metering.credit_grants (org_id, welcome_plan_id)
    WHERE welcome_plan_id IS NOT NULL;
/* [jooq ignore stop] */

-- API keys: only the SHA-256 of the key is stored. org_id NULL = admin key (scopes 'admin').
-- scopes: comma-separated, from ingest, read, check.
CREATE TABLE metering.api_keys (
    id         text        NOT NULL,
    key_hash   bytea       NOT NULL,
    org_id     text,
    scopes     text        NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revision   bigint      NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT api_keys_pk PRIMARY KEY (id),
    CONSTRAINT api_keys_hash_uk UNIQUE (key_hash)
    /* [jooq ignore stop] */
);
CREATE INDEX api_keys_revision_idx ON metering.api_keys (revision);

-- Check decisions per UTC day (flushed by each API instance every few seconds; counts add up
-- across instances). outcome: allowed | blocked | would_block (shadow/off); code '' when none.
CREATE TABLE metering.check_outcomes_daily (
    day     date   NOT NULL,
    org_id  text   NOT NULL,
    feature text   NOT NULL,
    outcome text   NOT NULL,
    code    text   NOT NULL,
    checks  bigint NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT check_outcomes_daily_pk PRIMARY KEY (day, org_id, feature, outcome, code)
    /* [jooq ignore stop] */
);

-- Each org's totals per feature in its current billing period: the stored subscription period,
-- or the calendar month (UTC) for orgs on the default plan (plan_id is then the default plan of
-- the newest catalog). Built from hourly org rows, so periods starting mid-day are exact.
/* [jooq ignore start] */
CREATE VIEW metering.org_period_usage AS
WITH periods AS (
    SELECT s.org_id, s.plan_id, s.status, s.seats, s.period_start, s.period_end
    FROM metering.subscriptions s
    UNION ALL
    SELECT d.org_id,
           (SELECT c.default_plan FROM metering.plan_catalogs c ORDER BY c.version DESC LIMIT 1),
           NULL,
           1,
           date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
           (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
    FROM metering.org_usage_daily d
    WHERE d.window_start >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      AND NOT EXISTS (SELECT 1 FROM metering.subscriptions s WHERE s.org_id = d.org_id)
    GROUP BY d.org_id
)
SELECT p.org_id,
       p.plan_id,
       p.status,
       p.seats,
       p.period_start,
       p.period_end,
       u.feature,
       SUM(u.events)              AS events,
       SUM(u.quantity)            AS quantity,
       SUM(u.input_tokens)        AS input_tokens,
       SUM(u.output_tokens)       AS output_tokens,
       SUM(u.cached_input_tokens) AS cached_input_tokens,
       SUM(u.unpriced_events)     AS unpriced_events,
       SUM(u.cost_usd)            AS cost_usd,
       MAX(u.last_event_at)       AS last_event_at
FROM periods p
JOIN metering.org_usage_hourly u
  ON u.org_id = p.org_id AND u.window_start >= p.period_start AND u.window_start < p.period_end
GROUP BY p.org_id, p.plan_id, p.status, p.seats, p.period_start, p.period_end, u.feature;
/* [jooq ignore stop] */
