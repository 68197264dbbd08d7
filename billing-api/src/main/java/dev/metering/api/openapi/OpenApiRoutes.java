package dev.metering.api.openapi;

import dev.metering.api.http.Auth;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /openapi.json} (no key): the OpenAPI 3 document of the whole API, a checked-in
 * resource ({@code openapi.json} next to this class). {@code OpenApiIT} compares its paths and
 * methods with the routes registered on the running server, so the two cannot drift.
 */
public final class OpenApiRoutes implements RouteModule {

    public static final String RESOURCE = "openapi.json";

    private final byte[] document;

    public OpenApiRoutes() {
        try (InputStream in = OpenApiRoutes.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCE);
            }
            this.document = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/openapi.json", ctx -> ctx.contentType("application/json").result(document));
    }
}
