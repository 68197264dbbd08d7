package dev.metering.api.check;

import java.util.Arrays;
import java.util.Optional;

/** off: never blocks; shadow: never blocks but reports wouldBlock; enforce: blocks. */
public enum EnforcementMode {
    OFF("off"),
    SHADOW("shadow"),
    ENFORCE("enforce");

    private final String wireName;

    EnforcementMode(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<EnforcementMode> fromWireName(String name) {
        return Arrays.stream(values()).filter(m -> m.wireName.equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return wireName;
    }
}
