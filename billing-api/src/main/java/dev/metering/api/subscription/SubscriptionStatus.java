package dev.metering.api.subscription;

import java.util.Arrays;
import java.util.Optional;

/** Subscription status (docs/contract.md, HTTP API). Only active and trialing subscriptions may use features. */
public enum SubscriptionStatus {
    ACTIVE("active"),
    TRIALING("trialing"),
    SUSPENDED("suspended"),
    EXPIRED("expired"),
    CANCELED("canceled");

    private final String wireName;

    SubscriptionStatus(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public boolean isUsable() {
        return this == ACTIVE || this == TRIALING;
    }

    public static Optional<SubscriptionStatus> fromWireName(String name) {
        return Arrays.stream(values()).filter(s -> s.wireName.equals(name)).findFirst();
    }
}
