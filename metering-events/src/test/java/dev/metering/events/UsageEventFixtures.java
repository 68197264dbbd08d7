package dev.metering.events;

import dev.metering.avro.UsageEvent;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/** Test data: a fixed clock and a deterministic id sequence, so expected values are exact. */
public final class UsageEventFixtures {

    /** 2023-11-14T22:13:20Z, epoch millis 1_700_000_000_000. */
    public static final Instant T0 = Instant.ofEpochMilli(1_700_000_000_000L);
    /** A clock fixed at {@link #T0}. */
    public static final Clock CLOCK = Clock.fixed(T0, ZoneOffset.UTC);

    private UsageEventFixtures() {
    }

    /** A valid CHAT_MESSAGE event of org acme at T0, ids 00000000-0000-0000-0000-00000000000n. */
    public static UsageEvents.Builder anEvent() {
        AtomicLong sequence = new AtomicLong();
        return UsageEvents.builder(CLOCK, () -> new UUID(0, sequence.incrementAndGet()))
                .org("acme").feature("CHAT_MESSAGE").user("u1");
    }

    /** The fixed event whose wire-format bytes the golden test spells out. */
    public static UsageEvent goldenEvent() {
        return UsageEvents.builder(CLOCK)
                .eventId("e1").org("acme").feature("CHAT_MESSAGE").user("u1")
                .model("openai", "gpt-5").tokens(120, 30).attribute("plan", "pro")
                .build();
    }
}
