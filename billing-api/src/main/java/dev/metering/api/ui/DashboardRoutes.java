package dev.metering.api.ui;

import dev.metering.api.http.Auth;
import dev.metering.api.http.RouteModule;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The usage dashboard (DESIGN §7.5): {@code GET /} and {@code /ui/...} answer the one page shell,
 * whose scripts ({@code /ui/assets/}, resources under {@code dashboard/}) call the JSON API with
 * the key the user pasted; {@code GET /docs} is Swagger UI over {@code /openapi.json}, its files
 * from the {@code org.webjars:swagger-ui} jar at {@code /docs/assets/}. Nothing is fetched from
 * outside the server: the Content-Security-Policy allows only this origin and no inline script.
 */
public final class DashboardRoutes implements RouteModule {

    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static final Set<String> DOCS_FILES = Set.of("/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js");

    private final byte[] shell = resource("/dashboard/index.html");
    private final byte[] docs = resource("/dashboard/docs.html");

    @Override
    public void configure(JavalinConfig config) {
        // the same policy on the scripts and styles as on the pages: nothing else to keep in step
        config.staticFiles.add(files -> {
            files.hostedPath = "/ui/assets";
            files.directory = "/dashboard/assets";
            files.location = Location.CLASSPATH;
            files.headers = headers(CSP, "no-cache");
        });
        config.staticFiles.add(files -> {
            files.hostedPath = "/docs/assets";
            files.directory = "/META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion();
            files.location = Location.CLASSPATH;
            files.headers = headers(CSP, "max-age=86400");
            // only what /docs loads (not the jar's own index.html, which points at the petstore)
            files.skipFileFunction = request -> !DOCS_FILES.contains(request.getRequestURI());
            files.precompress = true; // the bundle is 1.5 MB, about a quarter of it gzipped
        });
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/", this::shell);
        app.get("/ui", this::shell);
        app.get("/ui/admin", this::shell);
        app.get("/ui/org/{orgId}", this::shell);
        app.get("/docs", ctx -> page(ctx, docs));
    }

    private void shell(Context ctx) {
        page(ctx, shell);
    }

    private static void page(Context ctx, byte[] html) {
        headers(CSP, "no-cache").forEach(ctx::header);
        ctx.contentType("text/html; charset=utf-8").result(html);
    }

    private static Map<String, String> headers(String csp, String cacheControl) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Security-Policy", csp);
        h.put("X-Content-Type-Options", "nosniff");
        h.put("Referrer-Policy", "no-referrer");
        h.put("Cache-Control", cacheControl);
        return h;
    }

    private static String swaggerUiVersion() {
        Properties p = new Properties();
        try (InputStream in = DashboardRoutes.class.getResourceAsStream("/META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            if (in == null) {
                throw new IllegalStateException("org.webjars:swagger-ui is not on the class path");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }

    private static byte[] resource(String path) {
        try (InputStream in = DashboardRoutes.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
