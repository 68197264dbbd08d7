-- V17: each logged event's exact cost. Never edit once landed.
--
-- cost_usd is the event's cost rounded to nano-USD (as the API shows it); the window totals are
-- the exact sum rounded once, so only the exact per-event costs sum to them exactly (the audit
-- command compares the two). NULL for events logged before this column existed.
ALTER TABLE metering.usage_events ADD COLUMN cost_femtos numeric(38, 0);
COMMENT ON COLUMN metering.usage_events.cost_femtos IS 'the exact cost in 1e-15 USD, as folded into the window totals';
