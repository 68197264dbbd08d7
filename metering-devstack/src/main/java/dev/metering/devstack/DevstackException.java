package dev.metering.devstack;

/** A local server could not be started, did not become ready in time, or could not be stopped. */
public final class DevstackException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DevstackException(String message) {
        super(message);
    }

    public DevstackException(String message, Throwable cause) {
        super(message, cause);
    }
}
