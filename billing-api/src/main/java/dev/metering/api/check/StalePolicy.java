package dev.metering.api.check;

import java.util.Arrays;
import java.util.Optional;

/**
 * What a check does when usage data is older than the configured staleness.
 * fail-open: decide on the data there is (usage within a window only grows, so stale data can
 * only under-count: every block it shows is still right) and say {@code stale: true};
 * fail-closed: in enforce mode refuse with {@code USAGE_DATA_STALE} (suggested status 503).
 */
public enum StalePolicy {
    FAIL_OPEN("fail-open"),
    FAIL_CLOSED("fail-closed");

    private final String wireName;

    StalePolicy(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<StalePolicy> fromWireName(String name) {
        return Arrays.stream(values()).filter(m -> m.wireName.equals(name)).findFirst();
    }
}
