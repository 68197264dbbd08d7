package dev.metering.sink;

import dev.metering.avro.UsageWindowKey;
import dev.metering.avro.UsageWindowTotals;
import dev.metering.avro.WindowGrain;
import dev.metering.avro.WindowSize;
import java.math.BigDecimal;
import java.time.Instant;

/** Test-data builders for aggregate keys and totals: {@code Aggregates.key().org("acme").hour(T0)}. */
final class Aggregates {

    private Aggregates() {
    }

    static Key key() {
        return new Key();
    }

    static Totals totals() {
        return new Totals();
    }

    static final class Key {
        private WindowGrain grain = WindowGrain.DETAIL;
        private WindowSize size = WindowSize.HOUR;
        private Instant windowStart = Instant.parse("2026-11-02T10:00:00Z");
        private String org = "acme";
        private String user = "";
        private String feature = "CHAT_MESSAGE";
        private String provider = "";
        private String model = "";
        private String conversation = "";

        Key org(String value) {
            org = value;
            return this;
        }

        Key user(String value) {
            user = value;
            return this;
        }

        Key feature(String value) {
            feature = value;
            return this;
        }

        Key model(String providerValue, String modelValue) {
            provider = providerValue;
            model = modelValue;
            return this;
        }

        Key hour(Instant start) {
            size = WindowSize.HOUR;
            windowStart = start;
            return this;
        }

        Key day(Instant start) {
            size = WindowSize.DAY;
            windowStart = start;
            return this;
        }

        Key conversation(String value) {
            grain = WindowGrain.CONVERSATION;
            size = WindowSize.LIFETIME;
            windowStart = Instant.EPOCH;
            user = "";
            provider = "";
            model = "";
            conversation = value;
            return this;
        }

        Key orgGrain() {
            grain = WindowGrain.ORG;
            user = "";
            provider = "";
            model = "";
            return this;
        }

        UsageWindowKey build() {
            return UsageWindowKey.newBuilder().setGrain(grain).setSize(size).setWindowStart(windowStart)
                    .setOrgId(org).setUserId(user).setFeature(feature).setProvider(provider).setModel(model)
                    .setConversationId(conversation).build();
        }
    }

    static final class Totals {
        private long events = 1;
        private long quantity = 1;
        private long inputTokens;
        private long outputTokens;
        private long cachedInputTokens;
        private long unpriced;
        private long cacheWrite;
        private long reasoning;
        private BigDecimal costFemtos = BigDecimal.ZERO;
        private Instant first = Instant.parse("2026-11-02T10:05:00Z");
        private Instant last = Instant.parse("2026-11-02T10:05:00Z");
        private long version = 1;

        Totals events(long value) {
            events = value;
            quantity = value;
            return this;
        }

        Totals quantity(long value) {
            quantity = value;
            return this;
        }

        Totals tokens(long input, long output, long cached) {
            inputTokens = input;
            outputTokens = output;
            cachedInputTokens = cached;
            return this;
        }

        Totals cacheWrite(long value) {
            cacheWrite = value;
            return this;
        }

        Totals reasoning(long value) {
            reasoning = value;
            return this;
        }

        Totals unpriced(long value) {
            unpriced = value;
            return this;
        }

        /** Exact cost in femto-USD (1e-15). */
        Totals costFemtos(String value) {
            costFemtos = new BigDecimal(value);
            return this;
        }

        Totals between(Instant firstEvent, Instant lastEvent) {
            first = firstEvent;
            last = lastEvent;
            return this;
        }

        Totals version(long value) {
            version = value;
            return this;
        }

        UsageWindowTotals build() {
            return UsageWindowTotals.newBuilder().setEvents(events).setQuantity(quantity).setInputTokens(inputTokens)
                    .setOutputTokens(outputTokens).setCachedInputTokens(cachedInputTokens).setUnpricedEvents(unpriced)
                    .setCostFemtos(costFemtos).setFirstEventAt(first).setLastEventAt(last).setVersion(version)
                    .setCacheWriteTokens(cacheWrite).setReasoningTokens(reasoning).build();
        }
    }
}
