-- V10: look-ups of the v2 listings (docs/contract.md, v2 additions): GET /api/v1/usage/{orgId}/events
-- filtered by user or conversation, newest first; GET .../events/{eventId} for refused events;
-- GET /api/v1/subscriptions filtered by plan; the grant key of POST /api/v1/credits/import.

-- The event log filtered by user or by conversation, newest first (the cursor is occurred_at, event_id).
-- An index on the partitioned table is created on every partition, present and future.
/* [jooq ignore start] */
CREATE INDEX usage_events_org_user_time_idx
    ON metering.usage_events (org_id, user_id, occurred_at, event_id) WHERE user_id IS NOT NULL;
CREATE INDEX usage_events_org_conversation_time_idx
    ON metering.usage_events (org_id, conversation_id, occurred_at, event_id) WHERE conversation_id IS NOT NULL;
/* [jooq ignore stop] */

-- A dead letter's event, where its payload decodes as a UsageEvent (INVALID and LATE records from
-- the events topic; MALFORMED and UNKNOWN_SCHEMA ones do not decode): written by metering-sink so
-- the API can tell an event was dead-lettered without decoding every payload. NULL otherwise, and
-- for dead letters written before this version.
ALTER TABLE metering.dead_letters ADD COLUMN org_id text;
ALTER TABLE metering.dead_letters ADD COLUMN event_id text;
/* [jooq ignore start] */
CREATE INDEX dead_letters_org_event_idx ON metering.dead_letters (org_id, event_id) WHERE event_id IS NOT NULL;
/* [jooq ignore stop] */

-- GET /api/v1/subscriptions?planId=: one plan's subscriptions in org order (the cursor is org_id).
/* [jooq ignore start] */
CREATE INDEX subscriptions_plan_org_idx ON metering.subscriptions (plan_id, org_id);
/* [jooq ignore stop] */

-- POST /api/v1/credits/import: the caller's key of a grant, once per org, so a re-run grants
-- nothing twice (e.g. grantId "launch-5usd" for every org of a campaign). NULL for other grants.
ALTER TABLE metering.credit_grants ADD COLUMN grant_id text;
/* [jooq ignore start] */
CREATE UNIQUE INDEX credit_grants_grant_uk ON metering.credit_grants (org_id, grant_id) WHERE grant_id IS NOT NULL;
/* [jooq ignore stop] */
