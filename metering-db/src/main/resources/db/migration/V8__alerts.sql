-- V8: alerts and webhooks (DESIGN.md §7.5 "Alerts"). Owned by billing-api. Never edit once landed.
--
-- Same conventions as V1/V2: keys and indexes on text columns sit between jOOQ ignore markers.
-- An alert is recorded once by its alert_key (unique), whichever instance detects it; its
-- deliveries are an outbox written in the same transaction, so a crash never loses one.

-- Registered receivers. org_id NULL: alerts of every org. event_types: comma-separated, '' = all.
-- The secret must be kept (it signs every delivery); it is shown to the caller only at creation.
CREATE TABLE metering.webhook_endpoints (
    id          text        NOT NULL,
    url         text        NOT NULL,
    org_id      text,
    event_types text        NOT NULL,
    secret      text        NOT NULL,
    created_at  timestamptz NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT webhook_endpoints_pk PRIMARY KEY (id)
    /* [jooq ignore stop] */
);

-- Every alert ever recorded. alert_key: limit crossings
-- 'limit:<org>:<user|conversation key>:<limitId>:<windowStart>:<threshold>', low balance
-- 'balance:<org>:<episode>', expiring credits 'credits:<grantId>'. body: the Standard Webhooks
-- payload ({type, timestamp, data}), fixed at recording so every attempt sends the same bytes.
CREATE TABLE metering.alerts (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    alert_key   text        NOT NULL,
    message_id  text        NOT NULL,
    event_type  text        NOT NULL,
    org_id      text        NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT alerts_pk PRIMARY KEY (id)
);
/* [jooq ignore start] */
CREATE UNIQUE INDEX alerts_key_uk ON metering.alerts (alert_key);
CREATE INDEX alerts_org_created_idx ON metering.alerts (org_id, created_at);
/* [jooq ignore stop] */

-- Low balance fires once per downward crossing: below flips to true with a new episode (which
-- names the alert); a balance back at or above the threshold (a top-up) flips it back.
CREATE TABLE metering.low_balance_state (
    org_id      text        NOT NULL,
    below       boolean     NOT NULL,
    episode     bigint      NOT NULL,
    updated_at  timestamptz NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT low_balance_state_pk PRIMARY KEY (org_id)
    /* [jooq ignore stop] */
);

-- The outbox: one row per (endpoint, alert). status pending|delivered|failed; a pending row is
-- due at next_attempt_at (a sender sets it ahead as a lease while it sends). Retries stop 24 h
-- after retry_from (the recording, or a manual retry).
CREATE TABLE metering.webhook_deliveries (
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    endpoint_id      text        NOT NULL,
    alert_id         bigint      NOT NULL,
    status           text        NOT NULL,
    attempts         integer     NOT NULL,
    next_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL,
    retry_from       timestamptz NOT NULL,
    finished_at      timestamptz,
    CONSTRAINT webhook_deliveries_pk PRIMARY KEY (id),
    CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending', 'delivered', 'failed'))
);
/* [jooq ignore start] */
ALTER TABLE metering.webhook_deliveries ADD CONSTRAINT webhook_deliveries_endpoint_fk
    FOREIGN KEY (endpoint_id) REFERENCES metering.webhook_endpoints (id) ON DELETE CASCADE;
ALTER TABLE metering.webhook_deliveries ADD CONSTRAINT webhook_deliveries_alert_fk
    FOREIGN KEY (alert_id) REFERENCES metering.alerts (id);
CREATE UNIQUE INDEX webhook_deliveries_endpoint_alert_uk ON metering.webhook_deliveries (endpoint_id, alert_id);
CREATE INDEX webhook_deliveries_due_idx ON metering.webhook_deliveries (next_attempt_at) WHERE status = 'pending';
/* [jooq ignore stop] */

-- One row per HTTP attempt: the delivery log.
CREATE TABLE metering.webhook_attempts (
    delivery_id  bigint      NOT NULL,
    attempt      integer     NOT NULL,
    attempted_at timestamptz NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  bigint      NOT NULL,
    CONSTRAINT webhook_attempts_pk PRIMARY KEY (delivery_id, attempt)
);
/* [jooq ignore start] */
ALTER TABLE metering.webhook_attempts ADD CONSTRAINT webhook_attempts_delivery_fk
    FOREIGN KEY (delivery_id) REFERENCES metering.webhook_deliveries (id) ON DELETE CASCADE;
/* [jooq ignore stop] */
