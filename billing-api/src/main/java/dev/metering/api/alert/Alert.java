package dev.metering.api.alert;

import java.util.Map;
import java.util.Objects;

/**
 * An alert to record: {@code key} identifies the crossing (recorded at most once), {@code data}
 * is the payload's {@code data} object in the contract's field order.
 */
public record Alert(String key, AlertType type, String orgId, Map<String, Object> data) {
    public Alert {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(orgId, "orgId");
        Objects.requireNonNull(data, "data");
    }
}
