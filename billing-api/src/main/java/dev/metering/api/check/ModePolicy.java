package dev.metering.api.check;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/**
 * Resolves the enforcement mode of an org (seed 000's rollout): the org's own mode
 * ({@code PUT /api/v1/orgs/{orgId}/enforcement}) if set, else its subscription's
 * {@code enforcement} if set, else {@code enforce} for orgs inside the canary, else the global
 * default. Canary membership is a stable hash: the first 4 bytes of SHA-256(orgId, UTF-8) as an
 * unsigned number modulo 100, below the canary percent. The same org is always in or out, on
 * every instance and across restarts, and raising the percent only adds orgs.
 */
public record ModePolicy(EnforcementMode globalMode, int canaryPercent, Map<String, EnforcementMode> orgModes) {

    public ModePolicy {
        if (canaryPercent < 0 || canaryPercent > 100) {
            throw new IllegalArgumentException("canaryPercent must be 0-100, got " + canaryPercent);
        }
        orgModes = orgModes == null ? Map.of() : Map.copyOf(orgModes);
    }

    public ModePolicy(EnforcementMode globalMode, int canaryPercent) {
        this(globalMode, canaryPercent, Map.of());
    }

    public EnforcementMode modeFor(String orgId, EnforcementMode subscriptionMode) {
        EnforcementMode own = orgModes.isEmpty() ? null : orgModes.get(orgId);
        if (own != null) {
            return own;
        }
        if (subscriptionMode != null) {
            return subscriptionMode;
        }
        if (globalMode != EnforcementMode.ENFORCE && canaryPercent > 0 && bucket(orgId) < canaryPercent) {
            return EnforcementMode.ENFORCE;
        }
        return globalMode;
    }

    /** 0-99, stable for an org id. */
    public static int bucket(String orgId) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(orgId.getBytes(StandardCharsets.UTF_8));
            long first4 = ((h[0] & 0xffL) << 24) | ((h[1] & 0xffL) << 16) | ((h[2] & 0xffL) << 8) | (h[3] & 0xffL);
            return (int) (first4 % 100);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the JDK", e);
        }
    }
}
