package dev.metering.api.plan;

/** hard: a check that would exceed the limit is blocked; soft: allowed and reported exceeded. */
public enum Enforcement {
    HARD("hard"),
    SOFT("soft");

    private final String wireName;

    Enforcement(String wireName) {
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
