-- V3: room on every page of the window tables for in-place (HOT) updates.
--
-- A window row is rewritten many times while its window is open (absolute totals, one upsert per
-- streams commit that changed it), and no indexed column (org_id, user_id, window_start, the key)
-- ever changes. With free space on its page PostgreSQL writes the new row version there without
-- touching any index ("heap-only tuple"); on full pages every update inserts into every index.
-- Measured with the sink's upsert on 2 cores: ~50k rows/s at the default fillfactor 100, ~124k
-- rows/s at 70. Applies to pages written from now on; a VACUUM FULL repacks old ones if wanted.
-- PostgreSQL storage parameters only: jOOQ's code generator (H2) skips them.

/* [jooq ignore start] */
ALTER TABLE metering.usage_hourly SET (fillfactor = 70);
ALTER TABLE metering.usage_daily SET (fillfactor = 70);
ALTER TABLE metering.org_usage_hourly SET (fillfactor = 70);
ALTER TABLE metering.org_usage_daily SET (fillfactor = 70);
/* [jooq ignore stop] */
