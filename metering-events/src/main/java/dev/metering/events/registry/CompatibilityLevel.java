package dev.metering.events.registry;

import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;

/**
 * The Confluent compatibility levels, checked with Avro's own {@link SchemaCompatibility}.
 * BACKWARD: consumers using the new schema can read data written with the previous one;
 * FORWARD: consumers using the previous schema can read data written with the new one;
 * FULL: both; {@code _TRANSITIVE}: against every earlier version, not only the latest.
 */
public enum CompatibilityLevel {
    /** No check. */
    NONE,
    /** The new schema reads data written with the latest one. */
    BACKWARD,
    /** The new schema reads data written with every earlier one. */
    BACKWARD_TRANSITIVE,
    /** The latest schema reads data written with the new one. */
    FORWARD,
    /** Every earlier schema reads data written with the new one. */
    FORWARD_TRANSITIVE,
    /** BACKWARD and FORWARD against the latest schema. */
    FULL,
    /** BACKWARD and FORWARD against every earlier schema. */
    FULL_TRANSITIVE;

    /**
     * Parses a level name, case-insensitively.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static CompatibilityLevel parse(String name) {
        if (name == null) {
            throw new IllegalArgumentException("compatibility level must not be null");
        }
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown compatibility level '" + name + "' (one of "
                    + java.util.Arrays.toString(values()) + ")", e);
        }
    }

    /**
     * Whether {@code candidate} may follow {@code existing} (oldest first) under this level.
     *
     * @param existing  the subject's versions, oldest first; may be empty
     * @param candidate the schema to register
     */
    public boolean isCompatible(List<Schema> existing, Schema candidate) {
        if (this == NONE || existing.isEmpty()) {
            return true;
        }
        List<Schema> against = name().endsWith("_TRANSITIVE")
                ? existing
                : List.of(existing.get(existing.size() - 1));
        boolean backward = this == BACKWARD || this == BACKWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
        boolean forward = this == FORWARD || this == FORWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
        for (Schema old : against) {
            if (backward && !canRead(candidate, old)) {
                return false;
            }
            if (forward && !canRead(old, candidate)) {
                return false;
            }
        }
        return true;
    }

    private static boolean canRead(Schema reader, Schema writer) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType()
                == SchemaCompatibilityType.COMPATIBLE;
    }
}
