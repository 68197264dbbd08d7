package dev.metering.api.http;

import dev.metering.api.ApiException;
import dev.metering.api.account.AccountCache;
import dev.metering.api.audit.Actor;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import io.javalin.http.Context;
import java.time.Clock;

/**
 * Bearer-key authorization (docs/contract.md, Errors and auth): 401 without a valid key, 403 for another org's data
 * or a missing scope. Admin keys may do everything.
 */
public final class Auth {

    /** The request's principal once authenticated: routes authenticate again for free. */
    private static final String PRINCIPAL = "metering.principal";

    private final AccountCache cache;
    private final Clock clock;

    Auth(AccountCache cache, Clock clock) {
        this.cache = cache;
        this.clock = clock;
    }

    /** The caller as the audit log names it, at this moment. */
    public Actor actor(Principal principal) {
        return Actor.of(principal, clock.instant());
    }

    public Principal authenticate(Context ctx) {
        Principal known = ctx.attribute(PRINCIPAL);
        if (known != null) {
            return known;
        }
        String header = ctx.header("Authorization");
        if (header == null || header.length() <= 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "UNAUTHORIZED", null, "an API key is required: Authorization: Bearer <key>");
        }
        Principal p = cache.authenticate(header.substring(7).trim()).orElseThrow(() -> {
            ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            return new ApiException(401, "UNAUTHORIZED", null, "the API key is invalid or revoked");
        });
        ctx.attribute(PRINCIPAL, p);
        return p;
    }

    public Principal requireOrg(Context ctx, String orgId, Scope scope) {
        Principal p = authenticate(ctx);
        if (!p.may(orgId, scope)) {
            throw new ApiException(403, "FORBIDDEN", null, p.orgId() != null && !p.orgId().equals(orgId)
                    ? "this key belongs to another org"
                    : "this key lacks the '" + scope.wireName() + "' scope");
        }
        return p;
    }

    public Principal requireAny(Context ctx, Scope scope) {
        Principal p = authenticate(ctx);
        if (!p.isAdmin() && !p.scopes().contains(scope)) {
            throw new ApiException(403, "FORBIDDEN", null, "this key lacks the '" + scope.wireName() + "' scope");
        }
        return p;
    }

    public Principal requireAdmin(Context ctx) {
        Principal p = authenticate(ctx);
        if (!p.isAdmin()) {
            throw new ApiException(403, "FORBIDDEN", null, "an admin key is required");
        }
        return p;
    }
}
