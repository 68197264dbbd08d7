package dev.metering.api.http;

import io.javalin.Javalin;

/**
 * A group of routes registered by {@link Routes#create} next to the core ones (ingest, reports,
 * prices, dead letters, OpenAPI), sharing its auth, JSON, error rendering and metrics.
 */
@FunctionalInterface
public interface RouteModule {

    void register(Javalin app, Auth auth);
}
