-- V13: API key management (docs/contract.md, API keys): an optional expiry, the last time a key
-- authenticated, and the key a rotation replaced it with.
--
-- expires_at:   NULL = never; a key past it answers 401 API_KEY_EXPIRED. A rotation sets the old
--               key's expires_at to the end of its grace period (never later than it already was).
-- last_used_at: written by each API instance at most once a minute per key, in the background, and
--               without bumping revision (it must not invalidate the key caches of other instances).
-- replaced_by:  the id of the key a rotation created.
ALTER TABLE metering.api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE metering.api_keys ADD COLUMN last_used_at timestamptz;
ALTER TABLE metering.api_keys ADD COLUMN replaced_by text;

-- GET /api/v1/api-keys?orgId=: one org's keys in id order
/* [jooq ignore start] */
CREATE INDEX api_keys_org_idx ON metering.api_keys (org_id, id);
/* [jooq ignore stop] */
