package dev.metering.api.plan;

/**
 * Whose usage a limit counts. {@code conversation} is part of the catalog language but refused
 * at validation: the aggregates have no per-conversation grain (DESIGN §5), so such a limit could
 * never be evaluated truthfully.
 */
public enum LimitScope {
    ORG("org"),
    USER("user");

    private final String wireName;

    LimitScope(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    @Override
    public String toString() {
        return wireName;
    }
}
