package dev.metering.api.plan;

/**
 * Whose usage a limit counts: the whole org, one user, or one conversation (over the
 * conversation's life: the conversation grain has no windows, docs/architecture.md).
 */
public enum LimitScope {
    ORG("org"),
    USER("user"),
    CONVERSATION("conversation");

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
