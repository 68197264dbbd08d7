package dev.metering.api.check;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Resolves the enforcement mode of an org (seed 000's rollout): the org's own override if its
 * subscription has one, else {@code enforce} for orgs inside the canary, else the global default.
 * Canary membership is a stable hash: the first 4 bytes of SHA-256(orgId, UTF-8) as an unsigned
 * number modulo 100, below the canary percent. The same org is always in or out, on every
 * instance and across restarts, and raising the percent only adds orgs.
 */
public record ModePolicy(EnforcementMode globalMode, int canaryPercent) {

    public ModePolicy {
        if (canaryPercent < 0 || canaryPercent > 100) {
            throw new IllegalArgumentException("canaryPercent must be 0-100, got " + canaryPercent);
        }
    }

    public EnforcementMode modeFor(String orgId, EnforcementMode orgOverride) {
        if (orgOverride != null) {
            return orgOverride;
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
