package dev.metering.api.auth;

import java.util.Arrays;
import java.util.Optional;

/** What a key may do (docs/contract.md, Errors and auth). Admin keys have the single scope {@code admin}. */
public enum Scope {
    ADMIN("admin"),
    INGEST("ingest"),
    READ("read"),
    CHECK("check");

    private final String wireName;

    Scope(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<Scope> fromWireName(String name) {
        return Arrays.stream(values()).filter(s -> s.wireName.equals(name)).findFirst();
    }
}
