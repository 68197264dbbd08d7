package dev.metering.events;

import dev.metering.events.UsageEventValidator.Violation;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A usage event breaks the rules of UsageEvent (docs/contract.md); {@link #violations()} lists every problem and
 * the message names them all, e.g.
 * {@code invalid usage event: orgId REQUIRED: orgId must not be empty; quantity NEGATIVE: quantity -1 must not be negative}.
 * Thrown by {@link UsageMeter#record} before anything is sent.
 */
public class InvalidUsageEventException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient List<Violation> violations;

    /** An exception for the given (non-empty) violations. */
    public InvalidUsageEventException(List<Violation> violations) {
        super("invalid usage event: " + violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
        this.violations = List.copyOf(violations);
    }

    /** Every broken rule, in field order. */
    public List<Violation> violations() {
        return violations;
    }
}
