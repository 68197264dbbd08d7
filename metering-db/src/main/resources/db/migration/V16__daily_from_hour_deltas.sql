-- V16: usage_daily kept from the hour rows' changes; conversation updates in place. Never edit once landed.
--
-- 1. The lifetime trigger on usage_hourly sees, per statement, the new and old versions of every
--    hour row it changed; it also adds their difference to the day rows, in the same statement and
--    transaction. A day row stays the sum of its committed hour rows (additions commute, so
--    concurrent writers of one day stay exact) without the writer locking and re-reading days.
--    Only for writers that ask, with set_config('metering.derive_daily', 'on', true) in their
--    transaction (metering-sink): other writers (imports, tests, repairs) write usage_daily
--    themselves. A day row's version is the sum of its hours' versions.
-- 2. conversation_usage.last_event_at changes with every update: a btree on it makes each update
--    non-HOT (a new entry in every index). A BRIN index keeps updates HOT (PostgreSQL 16+) and
--    still serves the TTL clean-up's range scan, conversations being inserted in time order.

/* [jooq ignore start] */
CREATE OR REPLACE FUNCTION metering.usage_lifetime_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO metering.usage_lifetime AS l
        SELECT org_id, user_id, feature,
               SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens),
               SUM(cached_input_tokens), SUM(unpriced_events), SUM(cost_usd),
               MIN(first_event_at), MAX(last_event_at), now()
        FROM new_rows
        GROUP BY org_id, user_id, feature
        ORDER BY org_id, user_id, feature
        ON CONFLICT (org_id, user_id, feature) DO UPDATE SET
            events = l.events + excluded.events, quantity = l.quantity + excluded.quantity,
            input_tokens = l.input_tokens + excluded.input_tokens,
            output_tokens = l.output_tokens + excluded.output_tokens,
            cached_input_tokens = l.cached_input_tokens + excluded.cached_input_tokens,
            unpriced_events = l.unpriced_events + excluded.unpriced_events,
            cost_usd = l.cost_usd + excluded.cost_usd,
            first_event_at = LEAST(l.first_event_at, excluded.first_event_at),
            last_event_at = GREATEST(l.last_event_at, excluded.last_event_at),
            updated_at = excluded.updated_at;
        IF current_setting('metering.derive_daily', true) = 'on' THEN
            INSERT INTO metering.usage_daily AS t (org_id, window_start, user_id, feature, provider, model,
                events, quantity, input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd,
                first_event_at, last_event_at, updated_at, version, cache_write_tokens, reasoning_tokens)
            SELECT org_id, date_trunc('day', window_start, 'UTC'), user_id, feature, provider, model,
                   SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens), SUM(cached_input_tokens),
                   SUM(unpriced_events), SUM(cost_usd), MIN(first_event_at), MAX(last_event_at), MAX(updated_at),
                   SUM(version), SUM(cache_write_tokens), SUM(reasoning_tokens)
            FROM new_rows
            GROUP BY org_id, date_trunc('day', window_start, 'UTC'), user_id, feature, provider, model
            ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (org_id, window_start, user_id, feature, provider, model) DO UPDATE SET
                events = t.events + excluded.events, quantity = t.quantity + excluded.quantity,
                input_tokens = t.input_tokens + excluded.input_tokens,
                output_tokens = t.output_tokens + excluded.output_tokens,
                cached_input_tokens = t.cached_input_tokens + excluded.cached_input_tokens,
                unpriced_events = t.unpriced_events + excluded.unpriced_events,
                cost_usd = t.cost_usd + excluded.cost_usd,
                first_event_at = LEAST(t.first_event_at, excluded.first_event_at),
                last_event_at = GREATEST(t.last_event_at, excluded.last_event_at),
                updated_at = GREATEST(t.updated_at, excluded.updated_at),
                version = t.version + excluded.version,
                cache_write_tokens = t.cache_write_tokens + excluded.cache_write_tokens,
                reasoning_tokens = t.reasoning_tokens + excluded.reasoning_tokens;
        END IF;
    ELSE
        -- new versions minus old versions, summed per key: no join of the transition tables
        INSERT INTO metering.usage_lifetime AS l
        SELECT org_id, user_id, feature,
               SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens),
               SUM(cached_input_tokens), SUM(unpriced_events), SUM(cost_usd),
               MIN(first_event_at), MAX(last_event_at), now()
        FROM (SELECT org_id, user_id, feature, events, quantity, input_tokens, output_tokens,
                     cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at FROM new_rows
              UNION ALL
              SELECT org_id, user_id, feature, -events, -quantity, -input_tokens, -output_tokens,
                     -cached_input_tokens, -unpriced_events, -cost_usd, NULL, NULL FROM old_rows) d
        GROUP BY org_id, user_id, feature
        ORDER BY org_id, user_id, feature
        ON CONFLICT (org_id, user_id, feature) DO UPDATE SET
            events = l.events + excluded.events, quantity = l.quantity + excluded.quantity,
            input_tokens = l.input_tokens + excluded.input_tokens,
            output_tokens = l.output_tokens + excluded.output_tokens,
            cached_input_tokens = l.cached_input_tokens + excluded.cached_input_tokens,
            unpriced_events = l.unpriced_events + excluded.unpriced_events,
            cost_usd = l.cost_usd + excluded.cost_usd,
            first_event_at = LEAST(l.first_event_at, excluded.first_event_at),
            last_event_at = GREATEST(l.last_event_at, excluded.last_event_at),
            updated_at = excluded.updated_at;
        IF current_setting('metering.derive_daily', true) = 'on' THEN
            INSERT INTO metering.usage_daily AS t (org_id, window_start, user_id, feature, provider, model,
                events, quantity, input_tokens, output_tokens, cached_input_tokens, unpriced_events, cost_usd,
                first_event_at, last_event_at, updated_at, version, cache_write_tokens, reasoning_tokens)
            SELECT org_id, date_trunc('day', window_start, 'UTC'), user_id, feature, provider, model,
                   SUM(events), SUM(quantity), SUM(input_tokens), SUM(output_tokens), SUM(cached_input_tokens),
                   SUM(unpriced_events), SUM(cost_usd), MIN(first_event_at), MAX(last_event_at), MAX(updated_at),
                   SUM(version), SUM(cache_write_tokens), SUM(reasoning_tokens)
            FROM (SELECT org_id, window_start, user_id, feature, provider, model, events, quantity, input_tokens,
                         output_tokens, cached_input_tokens, unpriced_events, cost_usd, first_event_at, last_event_at,
                         updated_at, version, cache_write_tokens, reasoning_tokens FROM new_rows
                  UNION ALL
                  SELECT org_id, window_start, user_id, feature, provider, model, -events, -quantity, -input_tokens,
                         -output_tokens, -cached_input_tokens, -unpriced_events, -cost_usd, NULL, NULL,
                         NULL, -version, -cache_write_tokens, -reasoning_tokens FROM old_rows) d
            GROUP BY org_id, date_trunc('day', window_start, 'UTC'), user_id, feature, provider, model
            ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (org_id, window_start, user_id, feature, provider, model) DO UPDATE SET
                events = t.events + excluded.events, quantity = t.quantity + excluded.quantity,
                input_tokens = t.input_tokens + excluded.input_tokens,
                output_tokens = t.output_tokens + excluded.output_tokens,
                cached_input_tokens = t.cached_input_tokens + excluded.cached_input_tokens,
                unpriced_events = t.unpriced_events + excluded.unpriced_events,
                cost_usd = t.cost_usd + excluded.cost_usd,
                first_event_at = LEAST(t.first_event_at, excluded.first_event_at),
                last_event_at = GREATEST(t.last_event_at, excluded.last_event_at),
                updated_at = GREATEST(t.updated_at, excluded.updated_at),
                version = t.version + excluded.version,
                cache_write_tokens = t.cache_write_tokens + excluded.cache_write_tokens,
                reasoning_tokens = t.reasoning_tokens + excluded.reasoning_tokens;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
/* [jooq ignore stop] */

DROP INDEX metering.conversation_usage_last_event_idx;
/* [jooq ignore start] */
CREATE INDEX conversation_usage_last_event_brin ON metering.conversation_usage USING brin (last_event_at)
    WITH (autosummarize = on);
/* [jooq ignore stop] */
