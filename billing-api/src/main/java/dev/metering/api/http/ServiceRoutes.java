package dev.metering.api.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import java.time.Clock;

/**
 * A route module over one service (or repository), with what most handlers share: the JSON mapper,
 * the clock and the caller's {@link Auth}, kept at registration.
 *
 * @param <S> the service the handlers call
 */
public abstract class ServiceRoutes<S> implements RouteModule {

    protected final S service;
    protected final ObjectMapper mapper;
    protected final Clock clock;
    protected Auth auth;

    protected ServiceRoutes(S service, ObjectMapper mapper, Clock clock) {
        this.service = service;
        this.mapper = mapper;
        this.clock = clock;
    }

    @Override
    public final void register(Javalin app, Auth auth) {
        this.auth = auth;
        routes(app);
    }

    /** Registers the module's paths. */
    protected abstract void routes(Javalin app);
}
