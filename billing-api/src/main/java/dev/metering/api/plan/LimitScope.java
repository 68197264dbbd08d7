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

    /**
     * The check parameter that selects whose usage a limit of this scope counts ({@code userId},
     * {@code conversationId}); null for org scope, which needs none.
     */
    public String requestField() {
        switch (wireName) {
            case "user": return "userId";
            case "conversation": return "conversationId";
            default: return null;
        }
    }

    @Override
    public String toString() {
        return wireName;
    }
}
