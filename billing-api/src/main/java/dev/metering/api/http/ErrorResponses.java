package dev.metering.api.http;

import dev.metering.api.ApiException;
import dev.metering.api.plan.CatalogValidationException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jooq.exception.DataAccessException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every failure a handler throws, rendered as the contract's {@code {"error": {code, message,
 * field?, problems?}}} with its status (docs/contract.md, error codes).
 */
final class ErrorResponses {

    // under the name the log settings already know for the HTTP layer
    private static final Logger log = LoggerFactory.getLogger(Routes.class);
    private static final String ERROR_RENDERED = "metering.errorRendered";

    private ErrorResponses() {
    }

    static void register(Javalin app) {
        app.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.code(), e.field(), e.getMessage(), null));
        app.exception(CatalogValidationException.class, (e, ctx) -> error(ctx, 400, "INVALID_CATALOG",
                e.problems().get(0).split(":", 2)[0], String.join("; ", e.problems()), e.problems()));
        app.exception(HttpResponseException.class, (e, ctx) -> {
            switch (e.getStatus()) {
                case 404 -> error(ctx, 404, "NOT_FOUND", null, "no route " + ctx.method() + " " + ctx.path(), null);
                case 405 -> error(ctx, 405, "METHOD_NOT_ALLOWED", null, ctx.method() + " is not allowed on " + ctx.path(), null);
                case 413 -> error(ctx, 413, "PAYLOAD_TOO_LARGE", null, "the body is larger than "
                        + BodyLimit.boundFor(ctx.path()) + " bytes", null);
                default -> error(ctx, e.getStatus(), "HTTP_" + e.getStatus(), null, e.getMessage(), null);
            }
        });
        app.exception(DataAccessException.class, (e, ctx) -> {
            // class 22 (data exception: out of range, bad encoding, NUL) is the input's fault, not an outage
            String state = e.sqlState();
            if (state != null && state.startsWith("22")) {
                log.info("data refused by the database on {} {}: {}", ctx.method(), ctx.path(), state);
                error(ctx, 400, "INVALID_REQUEST", null, "a value is out of the range the database accepts (SQLState "
                        + state + ")", null);
                return;
            }
            log.warn("database failure on {} {}: {}", ctx.method(), ctx.path(), e.toString());
            error(ctx, 503, "UNAVAILABLE", null, "the database is unavailable; retry shortly", null);
        });
        app.exception(Exception.class, (e, ctx) -> {
            log.error("unexpected failure on {} {}", ctx.method(), ctx.path(), e);
            error(ctx, 500, "INTERNAL", null, "unexpected error", null);
        });
        app.error(404, ctx -> {
            if (ctx.attribute(ERROR_RENDERED) == null) {
                error(ctx, 404, "NOT_FOUND", null, "no route " + ctx.method() + " " + ctx.path(), null);
            }
        });
    }

    private static void error(Context ctx, int status, String code, String field, String message, List<String> problems) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("code", code);
        err.put("message", message);
        if (field != null) {
            err.put("field", field);
        }
        if (problems != null) {
            err.put("problems", problems);
        }
        ctx.attribute(ERROR_RENDERED, Boolean.TRUE);
        ctx.status(status).json(Map.of("error", err));
    }
}
