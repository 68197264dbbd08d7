package dev.metering.api;

/**
 * A refusal with its HTTP status and error code (docs/contract.md, Errors and auth): 400 names the offending field.
 * Thrown by handlers and services alike; rendered as {@code {"error":{"code","message","field"}}}.
 */
public final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;
    private final String field;

    public ApiException(int status, String code, String field, String message) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    public static ApiException badRequest(String field, String message) {
        return new ApiException(400, "INVALID_REQUEST", field, field == null ? message : field + ": " + message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "NOT_FOUND", null, message);
    }

    public static ApiException conflict(String message) {
        return new ApiException(409, "CONFLICT", null, message);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String field() {
        return field;
    }
}
