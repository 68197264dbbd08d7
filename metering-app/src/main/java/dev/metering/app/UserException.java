package dev.metering.app;

/** A failure the user can fix (a busy port, a missing file): printed as one line, no stack trace. */
public final class UserException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public UserException(String message) {
        this(message, 1, null);
    }

    public UserException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
