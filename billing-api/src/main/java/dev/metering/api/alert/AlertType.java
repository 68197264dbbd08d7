package dev.metering.api.alert;

import java.util.Arrays;
import java.util.Optional;

/** The alert event types (DESIGN §7.5), as webhook endpoints subscribe to them. */
public enum AlertType {
    LIMIT_THRESHOLD_REACHED("limit.threshold_reached"),
    BALANCE_LOW("balance.low"),
    CREDITS_EXPIRING("credits.expiring");

    private final String wireName;

    AlertType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<AlertType> fromWireName(String name) {
        return Arrays.stream(values()).filter(t -> t.wireName.equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return wireName;
    }
}
