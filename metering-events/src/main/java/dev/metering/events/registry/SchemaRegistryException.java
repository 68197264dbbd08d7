package dev.metering.events.registry;

/**
 * A schema registry refused a request, could not be reached, or gave an answer the client will
 * not use.
 *
 * <p>For a refusal, {@link #status()} is the HTTP status and {@link #errorCode()} and
 * {@link #registryMessage()} are the registry's own {@code error_code} and {@code message}
 * (e.g. 409 / 409 / "Schema being registered is incompatible with an earlier schema ...", or
 * 404 / 40403 / "Schema not found"). When the registry was unreachable (I/O error or timeout
 * after all retries), {@link #status()} and {@link #errorCode()} are {@link #NO_RESPONSE} and
 * the cause is the last I/O error.
 *
 * <p>{@link #isTransient()} tells a consumer whether to wait and ask again (unreachable, 5xx, 429)
 * or to treat the answer as final for what was asked (any other refusal, or an unusable answer:
 * a schema of another type, schema text Avro cannot parse, a body over the size cap, a redirect
 * to another origin).
 */
public class SchemaRegistryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Status and error code when no HTTP response was received. */
    public static final int NO_RESPONSE = -1;
    /** HTTP 429: the registry asks the client to slow down, a short-lived refusal. */
    public static final int TOO_MANY_REQUESTS = 429;

    private final int status;
    private final int errorCode;
    private final String registryMessage;
    private final boolean transientFailure;

    /**
     * A refusal by the registry.
     *
     * @param status          the HTTP status
     * @param errorCode       the registry's {@code error_code}
     * @param registryMessage the registry's {@code message}
     * @param request         what was asked, e.g. {@code POST /subjects/x/versions}
     */
    public SchemaRegistryException(int status, int errorCode, String registryMessage, String request) {
        super(request + " failed: HTTP " + status + ", error_code " + errorCode + ": " + registryMessage);
        this.status = status;
        this.errorCode = errorCode;
        this.registryMessage = registryMessage;
        this.transientFailure = status >= 500 || status == TOO_MANY_REQUESTS;
    }

    /**
     * The registry could not be reached (transient).
     *
     * @param message what was asked and why it failed
     * @param cause   the last I/O error
     */
    public SchemaRegistryException(String message, Throwable cause) {
        this(NO_RESPONSE, null, message, cause, true);
    }

    private SchemaRegistryException(int status, String registryMessage, String message, Throwable cause,
                                    boolean transientFailure) {
        super(message, cause);
        this.status = status;
        this.errorCode = status;
        this.registryMessage = registryMessage;
        this.transientFailure = transientFailure;
    }

    /**
     * The registry answered {@code status}, but with something the client will not use (not
     * transient: asking again gets the same answer).
     *
     * @param status  the HTTP status of the answer
     * @param message what was asked and what is wrong with the answer
     * @param cause   the parse error, if any
     */
    public static SchemaRegistryException unusableAnswer(int status, String message, Throwable cause) {
        return new SchemaRegistryException(status, message, message, cause, false);
    }

    /** The HTTP status, or {@link #NO_RESPONSE}. */
    public int status() {
        return status;
    }

    /** The registry's {@code error_code} (e.g. 40401, 40403, 409, 42201), or {@link #NO_RESPONSE}. */
    public int errorCode() {
        return errorCode;
    }

    /** The registry's {@code message} (for an unusable answer: what is wrong with it), or null when there was no response. */
    public String registryMessage() {
        return registryMessage;
    }

    /** True for "not found" answers (HTTP 404): unknown subject, version or schema. */
    public boolean isNotFound() {
        return status == 404;
    }

    /**
     * True when asking again later may succeed: the registry was unreachable or timed out, or
     * answered 5xx or 429. False for any other refusal and for an unusable answer.
     */
    public boolean isTransient() {
        return transientFailure;
    }

    /**
     * True when {@code failure} or one of its causes is a transient registry failure; a
     * {@link SchemaRegistryException} that is not transient ends the search with false.
     */
    public static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryException e) {
                return e.isTransient();
            }
        }
        return false;
    }
}
