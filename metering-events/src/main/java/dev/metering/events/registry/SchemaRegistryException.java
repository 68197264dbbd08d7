package dev.metering.events.registry;

/**
 * A schema registry refused a request or could not be reached.
 *
 * <p>For a refusal, {@link #status()} is the HTTP status and {@link #errorCode()} and
 * {@link #registryMessage()} are the registry's own {@code error_code} and {@code message}
 * (e.g. 409 / 409 / "Schema being registered is incompatible with an earlier schema ...", or
 * 404 / 40403 / "Schema not found"). When the registry was unreachable (I/O error or timeout
 * after all retries), {@link #status()} and {@link #errorCode()} are {@link #NO_RESPONSE} and
 * the cause is the last I/O error.
 */
public class SchemaRegistryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Status and error code when no HTTP response was received. */
    public static final int NO_RESPONSE = -1;

    private final int status;
    private final int errorCode;
    private final String registryMessage;

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
    }

    /**
     * The registry could not be reached.
     *
     * @param message what was asked and why it failed
     * @param cause   the last I/O error
     */
    public SchemaRegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = NO_RESPONSE;
        this.errorCode = NO_RESPONSE;
        this.registryMessage = null;
    }

    /** The HTTP status, or {@link #NO_RESPONSE}. */
    public int status() {
        return status;
    }

    /** The registry's {@code error_code} (e.g. 40401, 40403, 409, 42201), or {@link #NO_RESPONSE}. */
    public int errorCode() {
        return errorCode;
    }

    /** The registry's {@code message}, or null when there was no response. */
    public String registryMessage() {
        return registryMessage;
    }

    /** True for "not found" answers (HTTP 404): unknown subject, version or schema. */
    public boolean isNotFound() {
        return status == 404;
    }
}
