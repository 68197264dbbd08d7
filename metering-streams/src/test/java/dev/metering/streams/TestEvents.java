package dev.metering.streams;

import dev.metering.avro.UsageEvent;
import java.time.Instant;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Test-data builder: {@code TestEvents.anEvent().org("acme").tokens(120, 30).at(T0).build()}. */
public final class TestEvents {

    /** A fixed instant inside an hour: 2026-03-10T10:15:00Z (a Tuesday). */
    public static final Instant T0 = Instant.parse("2026-03-10T10:15:00Z");
    /** The wall clock of the tests: four days after T0, so nothing is "in the future". */
    public static final Instant NOW = Instant.parse("2026-03-14T00:00:00Z");

    private static final AtomicLong SEQUENCE = new AtomicLong();

    private final UsageEvent.Builder b = UsageEvent.newBuilder()
            .setEventId("evt-" + SEQUENCE.incrementAndGet())
            .setOrgId("acme")
            .setOccurredAt(T0)
            .setFeature("CHAT_MESSAGE")
            .setAttributes(new HashMap<>());

    private TestEvents() {
    }

    public static TestEvents anEvent() {
        return new TestEvents();
    }

    public TestEvents id(String eventId) {
        b.setEventId(eventId);
        return this;
    }

    public TestEvents org(String orgId) {
        b.setOrgId(orgId);
        return this;
    }

    public TestEvents at(Instant occurredAt) {
        b.setOccurredAt(occurredAt);
        return this;
    }

    public TestEvents feature(String feature) {
        b.setFeature(feature);
        return this;
    }

    public TestEvents user(String userId) {
        b.setUserId(userId);
        return this;
    }

    public TestEvents conversation(String conversationId) {
        b.setConversationId(conversationId);
        return this;
    }

    public TestEvents model(String provider, String model) {
        b.setProvider(provider).setModel(model);
        return this;
    }

    public TestEvents completion(String provider, String model) {
        return feature("AI_COMPLETION").model(provider, model);
    }

    public TestEvents tokens(long input, long output) {
        b.setInputTokens(input).setOutputTokens(output);
        return this;
    }

    public TestEvents tokens(long input) {
        return tokens(input, 0);
    }

    public TestEvents cached(long cachedInputTokens) {
        b.setCachedInputTokens(cachedInputTokens);
        return this;
    }

    public TestEvents cacheWrite(long cacheWriteTokens) {
        b.setCacheWriteTokens(cacheWriteTokens);
        return this;
    }

    public TestEvents reasoning(long reasoningTokens) {
        b.setReasoningTokens(reasoningTokens);
        return this;
    }

    public TestEvents serviceTier(String serviceTier) {
        b.setServiceTier(serviceTier);
        return this;
    }

    public TestEvents quantity(long quantity) {
        b.setQuantity(quantity);
        return this;
    }

    public TestEvents costNanos(Long costNanos) {
        b.setCostNanos(costNanos);
        return this;
    }

    public UsageEvent build() {
        return b.build();
    }
}
