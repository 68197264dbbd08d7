package dev.metering.sink;

/** A failure that goes away by itself (a dependency down or restarting): retry the batch, later. */
final class TransientException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    TransientException(String message, Throwable cause) {
        super(message, cause);
    }
}
