package dev.metering.api.plan;

import java.util.Arrays;
import java.util.Optional;

/** What a limit counts. Names are the catalog's (contract: docs/contract.md, Plan catalog). */
public enum Meter {
    EVENTS("events"),
    QUANTITY("quantity"),
    INPUT_TOKENS("input_tokens"),
    OUTPUT_TOKENS("output_tokens"),
    /**
     * Every token processed: input + cached input + cache-write + output. The counts are disjoint
     * (docs/contract.md, UsageEvent: {@code inputTokens} are the uncached ones), as the streams' pricing treats them.
     */
    TOKENS("tokens"),
    COST_USD("cost_usd");

    private final String wireName;

    Meter(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public boolean isMoney() {
        return this == COST_USD;
    }

    public boolean isTokens() {
        return this == INPUT_TOKENS || this == OUTPUT_TOKENS || this == TOKENS;
    }

    public static Optional<Meter> fromWireName(String name) {
        return Arrays.stream(values()).filter(m -> m.wireName.equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return wireName;
    }
}
