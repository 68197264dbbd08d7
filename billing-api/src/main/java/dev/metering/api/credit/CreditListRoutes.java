package dev.metering.api.credit;

import dev.metering.api.ApiException;
import dev.metering.api.auth.Scope;
import dev.metering.api.http.Auth;
import dev.metering.api.http.Paging;
import dev.metering.api.http.Requests;
import dev.metering.api.http.Bodies;
import dev.metering.api.http.RouteModule;
import dev.metering.api.store.CreditRepository;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /api/v1/orgs/{orgId}/credits?limit=&after=} (read; an org key only its own org): the
 * org's credit grants, newest first, expired ones included, {@code {items, next}}. {@code next}
 * (null on the last page) is an opaque cursor over the last grant's id, so a grant made while
 * paging never repeats or shifts a grant already listed. No per-grant remaining amount: usage
 * draws on the active grants as one pool (balance rules), not on any one grant.
 */
public final class CreditListRoutes implements RouteModule {

    private final CreditRepository repository;
    private final Clock clock;

    public CreditListRoutes(CreditRepository repository, Clock clock) {
        this.repository = repository;
        this.clock = clock;
    }

    @Override
    public void register(Javalin app, Auth auth) {
        app.get("/api/v1/orgs/{orgId}/credits", ctx -> list(ctx, auth));
    }

    private void list(Context ctx, Auth auth) {
        String org = Requests.orgId(ctx);
        auth.requireOrg(ctx, org, Scope.READ);
        Instant now = clock.instant();
        Paging.answer(ctx, CreditListRoutes::decode, (after, limit) -> repository.page(org, after, limit),
                g -> item(g, now), g -> encode(g.grant().id()));
    }

    private static Map<String, Object> item(CreditRepository.Listed listed, Instant now) {
        CreditGrant g = listed.grant();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", g.id());
        m.put("grantId", listed.grantId());
        m.put("amountUsd", Bodies.money(g.amountUsd()));
        m.put("reason", g.reason());
        m.put("grantedAt", g.grantedAt());
        m.put("expiresAt", g.expiresAt());
        m.put("active", g.isActiveAt(now));
        m.put("welcomePlanId", g.welcomePlanId());
        return m;
    }

    static String encode(long id) {
        return Long.toString(id, 36);
    }

    static long decode(String cursor) {
        try {
            long id = Long.parseLong(cursor, 36);
            if (id < 1 || cursor.length() > 13) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("after", "not a cursor from a previous page's 'next'");
        }
    }
}
