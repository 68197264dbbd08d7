package dev.metering.api.http;

import dev.metering.api.ApiException;
import dev.metering.api.audit.Actor;
import dev.metering.api.auth.ApiKeyCache;
import dev.metering.api.auth.Principal;
import dev.metering.api.auth.Scope;
import dev.metering.api.ratelimit.RateLimits;
import io.javalin.http.Context;
import java.time.Clock;

/**
 * Bearer-key authorization (docs/contract.md, Errors and auth): 401 without a valid key, 403 for another org's data
 * or a missing scope. Admin keys may do everything. Also the API's rate limits (docs/contract.md, Rate limits):
 * every authenticated request takes one token of its key's budget (the check budget on ingest and the
 * check and reservation routes), and an address that failed
 * authentication too often gets 429 for any token this instance does not already know, without a
 * database read.
 */
public final class Auth {

    /** The request's principal once authenticated: routes authenticate again for free, and a request takes one token. */
    private static final String PRINCIPAL = "metering.principal";

    private final ApiKeyCache keys;
    private final RateLimits limits;
    private final Clock clock;

    Auth(ApiKeyCache keys, RateLimits limits, Clock clock) {
        this.keys = keys;
        this.limits = limits;
        this.clock = clock;
    }

    /** The caller as the audit log names it, at this moment. */
    public Actor actor(Principal principal) {
        return Actor.of(principal, clock.instant());
    }

    /** The caller, drawing on the check budget on ingest and the check and reservation routes, else on the general one. */
    public Principal authenticate(Context ctx) {
        Principal known = ctx.attribute(PRINCIPAL);
        if (known != null) {
            return known;
        }
        Principal p = authenticate(ctx, budgetOf(ctx.path()));
        ctx.attribute(PRINCIPAL, p);
        return p;
    }

    /** The hot path (ingest, {@code /api/v1/usage/{orgId}/check/...}, {@code .../reservations...}): the check budget. */
    static RateLimits.Budget budgetOf(String path) {
        if (path.equals("/api/v1/events")) {
            return RateLimits.Budget.CHECK;
        }
        String[] segments = path.split("/", 7);
        boolean check = segments.length >= 6 && segments[1].equals("api") && segments[2].equals("v1")
                && segments[3].equals("usage") && (segments[5].equals("check") || segments[5].equals("reservations"));
        return check ? RateLimits.Budget.CHECK : RateLimits.Budget.GENERAL;
    }

    private Principal authenticate(Context ctx, RateLimits.Budget budget) {
        String header = ctx.header("Authorization");
        if (header == null || header.length() <= 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            refuseIfFailingTooOften(ctx);
            limits.failedAuth(ctx.ip());
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "UNAUTHORIZED", null, "an API key is required: Authorization: Bearer <key>");
        }
        String token = header.substring(7).trim();
        ApiKeyCache.Authentication a = keys.cached(token);
        if (!(a instanceof ApiKeyCache.Valid)) {
            refuseIfFailingTooOften(ctx);
            if (a == null) {
                a = keys.lookup(token);
            }
        }
        if (a instanceof ApiKeyCache.Valid valid) {
            Principal p = valid.principal();
            long wait = limits.takeForKey(p.keyId(), budget);
            if (wait > 0) {
                throw rateLimited(ctx, wait, budget == RateLimits.Budget.CHECK
                        ? "this key's budget for ingest, checks and reservations is used up"
                        : "this key's request budget is used up");
            }
            return p;
        }
        limits.failedAuth(ctx.ip());
        if (a instanceof ApiKeyCache.Expired expired) {
            ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\"expired\"");
            throw new ApiException(401, "API_KEY_EXPIRED", null, "the API key " + expired.keyId() + " expired at "
                    + expired.expiredAt());
        }
        ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        throw new ApiException(401, "UNAUTHORIZED", null, "the API key is invalid or revoked");
    }

    /** The client address is the TCP peer's: a proxy in front counts as one client. */
    private void refuseIfFailingTooOften(Context ctx) {
        long wait = limits.failedAuthWait(ctx.ip());
        if (wait > 0) {
            throw rateLimited(ctx, wait, "too many failed authentications from this address");
        }
    }

    private static ApiException rateLimited(Context ctx, long waitNanos, String message) {
        long seconds = RateLimits.retryAfterSeconds(waitNanos);
        ctx.header("Retry-After", Long.toString(seconds));
        return new ApiException(429, "RATE_LIMITED", null, message + "; retry after " + seconds + " s");
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
