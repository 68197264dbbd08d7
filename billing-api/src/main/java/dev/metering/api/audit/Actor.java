package dev.metering.api.audit;

import dev.metering.api.auth.Principal;
import java.time.Instant;

/**
 * Who makes a change and when: {@code id} as the audit log names the caller (the API key's id,
 * {@code admin-token} for the bootstrap {@code METERING_ADMIN_TOKEN}, which has no stored key),
 * {@code keyId} as the principal does (what {@code updatedBy} fields show), at the server's clock.
 */
public record Actor(String id, String keyId, Instant at) {

    /** The bootstrap admin token's principal id (see AccountCache). */
    static final String BOOTSTRAP_KEY_ID = "bootstrap-admin";
    public static final String ADMIN_TOKEN = "admin-token";

    /** A change made without an API key: the command line ({@code cli}) or a dev/bench/demo tool. */
    public static Actor tool(String name, Instant at) {
        return new Actor(name, name, at);
    }

    public static Actor of(Principal principal, Instant at) {
        String keyId = principal.keyId();
        return new Actor(BOOTSTRAP_KEY_ID.equals(keyId) ? ADMIN_TOKEN : keyId, keyId, at);
    }
}
