-- V18: a change feed of usage for the alert detector. Never edit once landed.
--
-- Statement triggers on usage_hourly, org_usage_hourly, org_usage_daily and conversation_usage
-- add a row here for each statement's inserted rows and one for its updated rows (an upsert can
-- add both; a statement that changes nothing adds none): the distinct (org, user) or (org,
-- conversation) keys. The detector reads the rows no earlier read could see (by transaction id
-- against its last snapshot), so a pass costs what changed since the previous one, not a scan of
-- every row of the recent windows. Every writer feeds it (the sink, imports, repairs, tests)
-- without knowing about it. Rows are kept an hour after they were added (the sink's maintenance
-- deletes older ones; a transaction open longer than that loses its rows); a detector further
-- behind evaluates the recent windows whole instead.

/* [jooq ignore start] */
CREATE TABLE metering.usage_changes (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the writing transaction: rows are read by it, in commit-safe order (see the detector)
    tx            xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- when the row was added (not when its transaction began), for the retention
    written_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    org_ids       text[]      NOT NULL,
    -- parallel to org_ids: the user ('' for none and for org-grain rows) or the conversation
    subject_ids   text[]      NOT NULL,
    conversations boolean     NOT NULL
);
CREATE INDEX usage_changes_tx_idx ON metering.usage_changes (tx);
CREATE INDEX usage_changes_written_brin ON metering.usage_changes USING brin (written_at);

CREATE FUNCTION metering.usage_changes_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metering.usage_changes (org_ids, subject_ids, conversations)
    SELECT array_agg(org_id), array_agg(user_id), false
    FROM (SELECT DISTINCT org_id, user_id FROM new_rows) d
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION metering.usage_changes_orgs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metering.usage_changes (org_ids, subject_ids, conversations)
    SELECT array_agg(org_id), array_agg(''::text), false
    FROM (SELECT DISTINCT org_id FROM new_rows) d
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION metering.usage_changes_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metering.usage_changes (org_ids, subject_ids, conversations)
    SELECT array_agg(org_id), array_agg(conversation_id), true
    FROM (SELECT DISTINCT org_id, conversation_id FROM new_rows) d
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER usage_hourly_changes_ins AFTER INSERT ON metering.usage_hourly
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_changes_users();
CREATE TRIGGER usage_hourly_changes_upd AFTER UPDATE ON metering.usage_hourly
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_changes_users();
CREATE TRIGGER org_usage_hourly_changes_ins AFTER INSERT ON metering.org_usage_hourly
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_changes_orgs();
CREATE TRIGGER org_usage_hourly_changes_upd AFTER UPDATE ON metering.org_usage_hourly
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_changes_orgs();
CREATE TRIGGER org_usage_daily_changes_ins AFTER INSERT ON metering.org_usage_daily
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_changes_orgs();
CREATE TRIGGER org_usage_daily_changes_upd AFTER UPDATE ON metering.org_usage_daily
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_changes_orgs();
CREATE TRIGGER conversation_usage_changes_ins AFTER INSERT ON metering.conversation_usage
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_changes_conversations();
CREATE TRIGGER conversation_usage_changes_upd AFTER UPDATE ON metering.conversation_usage
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering.usage_changes_conversations();
/* [jooq ignore stop] */
