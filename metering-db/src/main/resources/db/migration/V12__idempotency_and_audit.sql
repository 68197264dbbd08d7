-- V12: idempotency keys and the audit log (docs/contract.md, Idempotency keys and Audit log).

-- The answer of a creating POST sent with an Idempotency-Key header, per calling API key, so a
-- retry within 24 h gets the same answer instead of a second grant, key, import or webhook.
-- A row without response_status is in progress until locked_until (a crashed instance's claim
-- is taken over after it). Rows at or past expires_at count as absent; a periodic clean-up
-- deletes them, nothing depends on it.
CREATE TABLE metering.idempotency_keys (
    key_id          text        NOT NULL,
    idempotency_key text        NOT NULL,
    -- SHA-256 of method, path with query and body: the same key with another request is refused
    request_hash    bytea       NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    locked_until    timestamptz NOT NULL,
    response_status integer,
    -- the stored answer, without secrets shown once (API keys, webhook secrets)
    response_body   text
    /* [jooq ignore start] */,
    CONSTRAINT idempotency_keys_pk PRIMARY KEY (key_id, idempotency_key)
    /* [jooq ignore stop] */
);
CREATE INDEX idempotency_keys_expires_idx ON metering.idempotency_keys (expires_at);

-- Who changed what and when: one row per change of plans, subscriptions, credits, prices, API keys,
-- enforcement and webhooks, written in the change's transaction where the change has one.
-- actor is the API key id ('admin-token' for METERING_ADMIN_TOKEN); before/after are bounded JSON
-- summaries (null where there was nothing before or is nothing after).
CREATE TABLE metering.audit_log (
    id        bigint      GENERATED ALWAYS AS IDENTITY,
    at        timestamptz NOT NULL,
    actor     text        NOT NULL,
    action    text        NOT NULL,
    entity    text        NOT NULL,
    entity_id text,
    before    jsonb,
    after     jsonb
    /* [jooq ignore start] */,
    CONSTRAINT audit_log_pk PRIMARY KEY (id)
    /* [jooq ignore stop] */
);
-- GET /api/v1/audit pages newest first by id, optionally filtered by actor or entity
/* [jooq ignore start] */
CREATE INDEX audit_log_actor_idx ON metering.audit_log (actor, id);
CREATE INDEX audit_log_entity_idx ON metering.audit_log (entity, id);
/* [jooq ignore stop] */
CREATE INDEX audit_log_at_idx ON metering.audit_log (at);
