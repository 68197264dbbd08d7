-- V17: the cross-org time-range indexes of the window tables as BRIN. Never edit once landed.
--
-- Window rows are inserted when their window is current, so window_start follows the physical
-- order of the table: a BRIN index (a few pages) serves the reports' range scans (reports.sql:
-- cost by model, top orgs, ...) without a btree insertion per new window row in the sink's
-- transaction. Per-org reads keep their btree indexes.
-- autosummarize: ranges filled since the last vacuum are summarized soon, not scanned every time.

/* [jooq ignore start] */
DROP INDEX metering.usage_hourly_window_idx;
CREATE INDEX usage_hourly_window_brin ON metering.usage_hourly USING brin (window_start) WITH (autosummarize = on);
DROP INDEX metering.usage_daily_window_idx;
CREATE INDEX usage_daily_window_brin ON metering.usage_daily USING brin (window_start) WITH (autosummarize = on);
DROP INDEX metering.org_usage_daily_window_idx;
CREATE INDEX org_usage_daily_window_brin ON metering.org_usage_daily USING brin (window_start) WITH (autosummarize = on);
/* [jooq ignore stop] */
