-- V4: freshness of the whole pipeline, not only of the sink.
--
-- usage_as_of: every event appended to the events topic before this time has been processed by
-- metering-streams AND its results in this aggregates partition are written by the sink. The sink
-- that owns the partition moves it forward (GREATEST) once streams' committed offsets on its input
-- topics reached the end offsets seen at that time and the sink wrote up to the aggregates end
-- offsets seen after that. NULL: not known yet (billing-api then treats usage as stale).
-- streams_as_of: the newest such time up to which streams alone had caught up, as seen by the sink
-- owning this partition; with written_at it tells which stage stalled.
ALTER TABLE metering.sink_progress ADD COLUMN usage_as_of timestamptz;
ALTER TABLE metering.sink_progress ADD COLUMN streams_as_of timestamptz;
