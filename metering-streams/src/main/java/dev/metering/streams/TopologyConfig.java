package dev.metering.streams;

import dev.metering.events.Topics;
import dev.metering.streams.window.AggregateStage;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link MeteringTopology#build} needs to know.
 *
 * @param topics                 the topic names
 * @param grace                  how long after a window's end events are still accepted (default 48 h)
 * @param dedupeMargin           dedupe retention beyond the grace period (at least 1 hour, see
 *                               {@link dev.metering.streams.dedupe.DedupeStage})
 * @param fallbackPricePer1kUsd  flat price of 1,000 tokens of an unknown model, in USD; empty: none
 * @param eventsPartitions       the events topic's partition count, to detect records a foreign
 *                               partitioner put on the wrong partition; 0: do not check
 * @param conversationTtl        how long a conversation's totals are kept without events (default 30 days)
 * @param emitInterval           how often changed aggregate rows are emitted (the commit interval; default 200 ms)
 * @param eventLog               whether every counted event is written to {@code usage.priced} (default off)
 * @param clock                  the wall clock (validation's "not in the future" rule)
 */
public record TopologyConfig(Topics topics, Duration grace, Duration dedupeMargin, Optional<BigDecimal> fallbackPricePer1kUsd,
        int eventsPartitions, Duration conversationTtl, Duration emitInterval, boolean eventLog, Clock clock) {

    public static final Duration DEFAULT_GRACE = Duration.ofHours(48);
    public static final Duration DEFAULT_DEDUPE_MARGIN = Duration.ofHours(2);
    public static final Duration DEFAULT_CONVERSATION_TTL = Duration.ofDays(30);
    public static final Duration DEFAULT_EMIT_INTERVAL = Duration.ofMillis(200);

    public TopologyConfig {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(clock, "clock");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative: " + grace);
        }
        if (dedupeMargin.compareTo(Duration.ofHours(1)) < 0) {
            throw new IllegalArgumentException("dedupe margin must be at least 1 hour (the hour window itself): " + dedupeMargin);
        }
        fallbackPricePer1kUsd.ifPresent(TopologyConfig::femtosPerToken);
        if (conversationTtl.compareTo(Duration.ofHours(1)) < 0) {
            throw new IllegalArgumentException("conversation TTL must be at least 1 hour: " + conversationTtl);
        }
        if (emitInterval.isNegative() || emitInterval.isZero()) {
            throw new IllegalArgumentException("emit interval must be positive: " + emitInterval);
        }
    }

    /** Defaults: 48 h grace, 2 h dedupe margin, no fallback price, no placement check, 30 d conversations, 200 ms emission, no event log. */
    public static TopologyConfig defaults(Topics topics, Clock clock) {
        return new TopologyConfig(topics, DEFAULT_GRACE, DEFAULT_DEDUPE_MARGIN, Optional.empty(), 0, DEFAULT_CONVERSATION_TTL,
                DEFAULT_EMIT_INTERVAL, false, clock);
    }

    public TopologyConfig withGrace(Duration value) {
        return new TopologyConfig(topics, value, dedupeMargin, fallbackPricePer1kUsd, eventsPartitions, conversationTtl,
                emitInterval, eventLog, clock);
    }

    public TopologyConfig withFallbackPricePer1kUsd(BigDecimal value) {
        return new TopologyConfig(topics, grace, dedupeMargin, Optional.ofNullable(value), eventsPartitions, conversationTtl,
                emitInterval, eventLog, clock);
    }

    public TopologyConfig withEventsPartitions(int value) {
        return new TopologyConfig(topics, grace, dedupeMargin, fallbackPricePer1kUsd, value, conversationTtl, emitInterval,
                eventLog, clock);
    }

    public TopologyConfig withConversationTtl(Duration value) {
        return new TopologyConfig(topics, grace, dedupeMargin, fallbackPricePer1kUsd, eventsPartitions, value, emitInterval,
                eventLog, clock);
    }

    public TopologyConfig withEmitInterval(Duration value) {
        return new TopologyConfig(topics, grace, dedupeMargin, fallbackPricePer1kUsd, eventsPartitions, conversationTtl, value,
                eventLog, clock);
    }

    public TopologyConfig withEventLog(boolean value) {
        return new TopologyConfig(topics, grace, dedupeMargin, fallbackPricePer1kUsd, eventsPartitions, conversationTtl,
                emitInterval, value, clock);
    }

    /** The aggregate stage's settings. */
    public AggregateStage.Settings aggregation() {
        return new AggregateStage.Settings(grace, conversationTtl, emitInterval, eventLog);
    }

    /** The fallback rate in femto-USD per token: USD per 1K tokens x 1e15 / 1e3. */
    public Optional<BigInteger> fallbackFemtosPerToken() {
        return fallbackPricePer1kUsd.map(TopologyConfig::femtosPerToken);
    }

    private static BigInteger femtosPerToken(BigDecimal usdPer1k) {
        if (usdPer1k.signum() < 0) {
            throw new IllegalArgumentException("fallback price must not be negative: " + usdPer1k);
        }
        try {
            return usdPer1k.movePointRight(12).toBigIntegerExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("fallback price " + usdPer1k.toPlainString()
                    + " USD per 1K tokens is finer than 1 femto-USD per token (at most 12 decimals)");
        }
    }
}
