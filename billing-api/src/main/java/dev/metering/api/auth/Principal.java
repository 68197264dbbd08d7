package dev.metering.api.auth;

import java.util.Set;

/** Who is calling: an admin (orgId null) or a key of one org with scopes. */
public record Principal(String keyId, String orgId, Set<Scope> scopes) {

    public Principal {
        scopes = Set.copyOf(scopes);
    }

    public boolean isAdmin() {
        return scopes.contains(Scope.ADMIN);
    }

    /** May this principal act on {@code org} with {@code scope}? Admin: always. */
    public boolean may(String org, Scope scope) {
        return isAdmin() || (orgId != null && orgId.equals(org) && scopes.contains(scope));
    }
}
