package dev.metering.streams.validate;

/**
 * The schema registry stayed unreachable (or answered 5xx or 429) for the whole registry wait of
 * one record. Not the record's fault: the stream thread gives the record back (its transaction
 * aborts) and the runner replaces the thread after a backoff, without counting this as a failure.
 */
public final class RegistryUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public RegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** True when {@code failure} or one of its causes is a {@link RegistryUnavailableException}. */
    public static boolean isCause(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RegistryUnavailableException) {
                return true;
            }
        }
        return false;
    }
}
