-- V11: reservations (docs/contract.md, Reservations): holds on an org's limits and prepaid balance
-- taken by POST /api/v1/usage/{orgId}/reservations, so concurrent requests cannot overshoot a hard cap.
--
-- A hold counts against the org's limits while it is live:
--   held:    released_at IS NULL AND settled_at IS NULL AND expires_at > now;
--   settled: until the pipeline has counted its usage (usage_as_of passed settled_at, or the event
--            event_id is in usage_events written before usage_as_of), at most until expires_at;
--   released (DELETE) or expired: not counted. Reads filter by expires_at, so an expired hold needs no
--   process to release it; a periodic clean-up deletes rows a day after they stopped counting.
-- Writers serialize per org on a transaction-scoped advisory lock, then re-read the live holds.
CREATE TABLE metering.reservations (
    id              text           NOT NULL,
    org_id          text           NOT NULL,
    request_id      text           NOT NULL,
    feature         text           NOT NULL,
    user_id         text,
    conversation_id text,
    quantity        bigint         NOT NULL,
    tokens          bigint         NOT NULL,
    cost_usd        numeric(24, 9) NOT NULL,
    ttl_seconds     integer        NOT NULL,
    created_at      timestamptz    NOT NULL,
    expires_at      timestamptz    NOT NULL,
    settled_at      timestamptz,
    event_id        text,
    released_at     timestamptz,
    -- the JSON answer of the reservation, repeated verbatim to a retry with the same request_id
    answer          text           NOT NULL
    /* [jooq ignore start] */,
    CONSTRAINT reservations_pk PRIMARY KEY (id),
    CONSTRAINT reservations_request_uk UNIQUE (org_id, request_id)
    /* [jooq ignore stop] */
);

-- the check's probe: an org's live holds (nothing to read for an org without any)
/* [jooq ignore start] */
CREATE INDEX reservations_live_idx ON metering.reservations (org_id, expires_at) WHERE released_at IS NULL;
/* [jooq ignore stop] */
-- clean-up, oldest first
CREATE INDEX reservations_expires_idx ON metering.reservations (expires_at);
