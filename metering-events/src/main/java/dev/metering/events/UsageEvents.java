package dev.metering.events;

import dev.metering.avro.UsageEvent;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Builds {@link UsageEvent}s for chat services and tests:
 *
 * <pre>{@code
 * UsageEvent event = UsageEvents.builder(clock)
 *         .org("acme").feature("AI_COMPLETION").user("u1").conversation("c42")
 *         .model("openai", "gpt-5").tokens(1200, 350)
 *         .build();
 * }</pre>
 *
 * <p>Defaults follow the schema: {@code quantity} 1, token counts 0, no cost, no attributes.
 * {@link Builder#build()} assigns an {@code eventId} (a random UUID) when none was given, and
 * {@code occurredAt} from the injected clock when none was given, <em>once</em>: building again
 * from the same builder (a retry) returns an event with the same id and time, so the pipeline
 * counts it once. The builder does not validate; {@link UsageMeter#record} does, with
 * {@link UsageEventValidator}.
 */
public final class UsageEvents {

    private UsageEvents() {
    }

    /** A builder taking {@code occurredAt} from {@code clock} and ids from random UUIDs. */
    public static Builder builder(Clock clock) {
        return new Builder(clock, UUID::randomUUID);
    }

    /** A builder with a given id source, e.g. a ULID generator or a test's fixed sequence. */
    public static Builder builder(Clock clock, Supplier<UUID> ids) {
        return new Builder(clock, ids);
    }

    /** A mutable builder of one usage event; not thread-safe. */
    public static final class Builder {
        private final Clock clock;
        private final Supplier<UUID> ids;
        private String eventId;
        private String orgId;
        private Instant occurredAt;
        private String feature;
        private String userId;
        private String conversationId;
        private String provider;
        private String model;
        private String source;
        private long quantity = 1;
        private long inputTokens;
        private long outputTokens;
        private long cachedInputTokens;
        private Long costNanos;
        private long cacheWriteTokens;
        private long reasoningTokens;
        private String serviceTier;
        private final Map<String, String> attributes = new LinkedHashMap<>();

        private Builder(Clock clock, Supplier<UUID> ids) {
            this.clock = Objects.requireNonNull(clock, "clock");
            this.ids = Objects.requireNonNull(ids, "ids");
        }

        /** The idempotency key; set it when the caller has its own (e.g. the chat message id). */
        public Builder eventId(String eventId) {
            this.eventId = eventId;
            return this;
        }

        /** The billing entity. */
        public Builder org(String orgId) {
            this.orgId = orgId;
            return this;
        }

        /** The event time (default: the clock's now at the first {@link #build()}). */
        public Builder occurredAt(Instant occurredAt) {
            this.occurredAt = occurredAt;
            return this;
        }

        /** Same as {@link #occurredAt(Instant)}, for test-data readability: {@code .at(T0)}. */
        public Builder at(Instant occurredAt) {
            return occurredAt(occurredAt);
        }

        /** The feature code, e.g. {@code CHAT_MESSAGE}. */
        public Builder feature(String feature) {
            this.feature = feature;
            return this;
        }

        /** The user within the org. */
        public Builder user(String userId) {
            this.userId = userId;
            return this;
        }

        /** The conversation. */
        public Builder conversation(String conversationId) {
            this.conversationId = conversationId;
            return this;
        }

        /** The LLM provider and model, e.g. {@code ("openai", "gpt-5")}. */
        public Builder model(String provider, String model) {
            this.provider = provider;
            this.model = model;
            return this;
        }

        /** The emitting service or channel. */
        public Builder source(String source) {
            this.source = source;
            return this;
        }

        /** Units of the feature (default 1). */
        public Builder quantity(long quantity) {
            this.quantity = quantity;
            return this;
        }

        /** Input and output tokens. */
        public Builder tokens(long inputTokens, long outputTokens) {
            this.inputTokens = inputTokens;
            this.outputTokens = outputTokens;
            return this;
        }

        /** Cached input tokens. */
        public Builder cachedInputTokens(long cachedInputTokens) {
            this.cachedInputTokens = cachedInputTokens;
            return this;
        }

        /**
         * Input tokens written to the provider's prompt cache (Anthropic's
         * {@code cache_creation_input_tokens}); not included in the input or cached input tokens.
         */
        public Builder cacheWriteTokens(long cacheWriteTokens) {
            this.cacheWriteTokens = cacheWriteTokens;
            return this;
        }

        /** The part of the output tokens spent on reasoning (reported; priced as output once). */
        public Builder reasoningTokens(long reasoningTokens) {
            this.reasoningTokens = reasoningTokens;
            return this;
        }

        /** The provider's service tier of the request, e.g. {@code batch}, {@code flex}, {@code priority}. */
        public Builder serviceTier(String serviceTier) {
            this.serviceTier = serviceTier;
            return this;
        }

        /** A cost already known to the producer, in nano-USD; overrides the price book. */
        public Builder costNanos(Long costNanos) {
            this.costNanos = costNanos;
            return this;
        }

        /** One free dimension. */
        public Builder attribute(String key, String value) {
            attributes.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * The event. Assigns {@code eventId} and {@code occurredAt} on the first call when they
         * were not given, and keeps them for later calls.
         */
        public UsageEvent build() {
            if (eventId == null) {
                eventId = ids.get().toString();
            }
            if (occurredAt == null) {
                occurredAt = clock.instant();
            }
            return new UsageEvent(eventId, orgId, occurredAt, feature, userId, conversationId, provider, model,
                    source, quantity, inputTokens, outputTokens, cachedInputTokens, costNanos,
                    new LinkedHashMap<>(attributes), cacheWriteTokens, reasoningTokens, serviceTier);
        }
    }
}
