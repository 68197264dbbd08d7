package dev.metering.app.demo;

import dev.metering.avro.UsageEvent;
import dev.metering.events.UsageEvents;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Realistic chat-product usage: mostly chat messages with LLM tokens, some completions, embeddings,
 * file uploads and workflow runs; many users per org (bigger orgs have more), models from the
 * example price book plus an occasional model the price book does not know (counted unpriced);
 * event times up to 3 s in the past, so they arrive slightly out of order.
 */
public final class TrafficGenerator {

    /** Models of the example price book, weighted by how often a chat product calls them. */
    static final List<String[]> MODELS = List.of(
            new String[] {"openai", "gpt-5-mini"}, new String[] {"openai", "gpt-5-mini"}, new String[] {"openai", "gpt-5"},
            new String[] {"openai", "gpt-4.1-mini"}, new String[] {"openai", "gpt-4o-mini"}, new String[] {"openai", "o4-mini"},
            new String[] {"anthropic", "claude-sonnet-4-5"}, new String[] {"anthropic", "claude-haiku-4-5"},
            new String[] {"anthropic", "claude-opus-4-1"}, new String[] {"google", "gemini-2.5-flash"},
            new String[] {"google", "gemini-2.5-pro"}, new String[] {"mistral", "mistral-small-latest"},
            new String[] {"groq", "llama-3.3-70b-versatile"}, new String[] {"deepseek", "deepseek-chat"});

    static final String[] UNKNOWN_MODEL = {"acme", "in-house-llm-7b"};

    private final Random random;
    private final Clock clock;

    public TrafficGenerator(long seed, Clock clock) {
        this.random = new Random(seed);
        this.clock = clock;
    }

    /** Org ids {@code org-00001} ... as the demo and loadgen use them. */
    public static String org(int index) {
        return String.format("org-%05d", index);
    }

    /** One event of {@code org}; {@code orgSize} (1..n) scales its number of users. */
    public synchronized UsageEvent next(String org, int orgSize) {
        Instant at = clock.instant().minusMillis(random.nextInt(3000));
        int users = 3 + orgSize * 7;
        UsageEvents.Builder b = UsageEvents.builder(clock, this::uuid).org(org).at(at)
                .user("user-" + random.nextInt(users)).source("demo");
        int roll = random.nextInt(100);
        if (roll < 60) {
            b.feature("CHAT_MESSAGE").conversation("conv-" + random.nextInt(users * 20));
            withModel(b, 150 + random.nextInt(2500), 40 + random.nextInt(900));
        } else if (roll < 80) {
            b.feature("AI_COMPLETION");
            withModel(b, 500 + random.nextInt(6000), 100 + random.nextInt(2000));
        } else if (roll < 88) {
            b.feature("EMBEDDING").model("openai", "text-embedding-3-small").tokens(200 + random.nextInt(8000), 0);
        } else if (roll < 95) {
            b.feature("FILE_UPLOAD").quantity(1);
        } else {
            b.feature("WORKFLOW_RUN").quantity(1 + random.nextInt(3));
        }
        return b.build();
    }

    /** A chat message of {@code org} (the demo's busy org that runs into its daily message limit). */
    public synchronized UsageEvent chatMessage(String org) {
        UsageEvents.Builder b = UsageEvents.builder(clock, this::uuid).org(org).at(clock.instant())
                .user("user-" + random.nextInt(5)).source("demo").feature("CHAT_MESSAGE")
                .conversation("conv-" + random.nextInt(40));
        withModel(b, 100 + random.nextInt(800), 40 + random.nextInt(400));
        return b.build();
    }

    private void withModel(UsageEvents.Builder b, long input, long output) {
        String[] m = random.nextInt(100) < 2 ? UNKNOWN_MODEL : MODELS.get(random.nextInt(MODELS.size()));
        b.model(m[0], m[1]).tokens(input, output).cachedInputTokens(random.nextInt(3) == 0 ? input / 2 : 0);
    }

    public synchronized boolean chance(int percent) {
        return random.nextInt(100) < percent;
    }

    public synchronized int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** Random, not seeded: a second run with the same seed must not repeat event ids (they would be deduplicated). */
    private UUID uuid() {
        return UUID.randomUUID();
    }
}
