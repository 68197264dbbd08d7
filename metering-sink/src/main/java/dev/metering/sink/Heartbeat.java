package dev.metering.sink;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The idle heartbeat: if every assigned partition of the aggregates topic is caught up, record that
 * in {@code sink_progress} ({@code written_at} = now), so an idle night does not look like a
 * stalled sink. Called by the polling thread while idle (the poll returned nothing, nothing
 * unwritten), at most once per heartbeat interval of the sink's clock.
 */
final class Heartbeat {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);
    /** How long a heartbeat check may wait for the broker (end offsets, positions). */
    private static final Duration BROKER_TIMEOUT = Duration.ofSeconds(5);

    private final Consumer<byte[], byte[]> consumer;
    private final SinkWriter writer;
    private final SinkMetrics metrics;
    private final LoopSettings settings;
    private final Clock clock;
    private final SinkLoop.Hooks hooks;
    /** The sink clock's time of the last heartbeat check; null before the first. */
    private Instant lastCheck;

    Heartbeat(Consumer<byte[], byte[]> consumer, SinkWriter writer, SinkMetrics metrics, LoopSettings settings,
              Clock clock, SinkLoop.Hooks hooks) {
        this.consumer = consumer;
        this.writer = writer;
        this.metrics = metrics;
        this.settings = settings;
        this.clock = clock;
        this.hooks = hooks;
    }

    /**
     * Caught up means: position == end offset for every such partition, the end offset asked
     * from the broker now (under read_committed it is the last stable offset). {@code currentLag}
     * is not enough: it is the lag of the last fetch response, and a partition not fetched (paused)
     * keeps an old one. {@code now} is read BEFORE the end offsets, so the claim "at {@code now}
     * everything given to the sink was written" holds even if a record arrives during the check.
     * Any lag: no heartbeat (the data then correctly looks stale). A failed check or write is
     * logged and tried again at the next interval; it never stops the sink.
     */
    void checkIfDue() {
        Instant now = clock.instant();
        if (lastCheck != null && !now.isBefore(lastCheck) && now.isBefore(lastCheck.plus(settings.heartbeatInterval()))) {
            return; // not due; a clock set back makes it due at once
        }
        Set<TopicPartition> partitions = new HashSet<>();
        for (TopicPartition tp : consumer.assignment()) {
            if (tp.topic().equals(settings.aggregatesTopic())) {
                partitions.add(tp);
            }
        }
        if (partitions.isEmpty()) {
            return;
        }
        lastCheck = now;
        Map<TopicPartition, Long> positions = new HashMap<>();
        Map<TopicPartition, Long> lag = new HashMap<>();
        try {
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, BROKER_TIMEOUT);
            for (TopicPartition tp : partitions) {
                long position = consumer.position(tp, BROKER_TIMEOUT);
                Long end = ends.get(tp);
                if (end == null) {
                    throw new KafkaException("no end offset for " + tp);
                }
                positions.put(tp, position);
                lag.put(tp, Math.max(0, end - position));
            }
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            metrics.heartbeats.labelValues("failed").inc();
            log.warn("heartbeat check failed (tried again in {}): {}", settings.heartbeatInterval(), e.toString());
            return;
        }
        boolean caughtUp = lag.values().stream().allMatch(l -> l == 0);
        boolean written = false;
        if (caughtUp) {
            try {
                writer.heartbeat(positions, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
                written = true;
                metrics.heartbeats.labelValues("written").inc();
            } catch (RuntimeException e) {
                metrics.heartbeats.labelValues("failed").inc();
                log.warn("heartbeat not written (tried again in {}): {}", settings.heartbeatInterval(),
                        Failures.describe(e));
            }
        } else {
            metrics.heartbeats.labelValues("lagging").inc();
            log.debug("not caught up, no heartbeat: lag {}", lag);
        }
        hooks.afterHeartbeatCheck(now, Map.copyOf(lag), written);
    }
}
