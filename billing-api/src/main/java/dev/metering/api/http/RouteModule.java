package dev.metering.api.http;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;

/**
 * A group of routes registered by {@link Routes#create} next to the core ones (ingest, reports,
 * prices, dead letters, OpenAPI), sharing its auth, JSON, error rendering and metrics.
 */
@FunctionalInterface
public interface RouteModule {

    void register(Javalin app, Auth auth);

    /** Server configuration the module needs before the routes (e.g. static files); none by default. */
    default void configure(JavalinConfig config) {
    }
}
