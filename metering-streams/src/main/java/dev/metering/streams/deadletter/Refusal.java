package dev.metering.streams.deadletter;

import dev.metering.events.DeadLetterHeaders.Reason;

/**
 * Why and where a record was refused.
 *
 * @param reason  the contract reason (header {@code metering.error.reason})
 * @param stage   the stage that refused it: {@code validate} or {@code aggregate}
 * @param message a human-readable explanation; for INVALID it lists every problem
 */
public record Refusal(Reason reason, String stage, String message) {
}
