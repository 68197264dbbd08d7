package dev.metering.api.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Standard Webhooks signing: the secret is {@code whsec_} + base64 of 24 to 64 random bytes; the
 * signature is {@code v1,} + base64(HMAC-SHA256(decoded secret, "id.timestamp.body")), so the
 * standardwebhooks libraries verify it as they are.
 */
public final class WebhookSignature {

    public static final String PREFIX = "whsec_";
    static final int MIN_SECRET_BYTES = 24;
    static final int MAX_SECRET_BYTES = 64;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** A Mac per thread: looking one up costs more than the signature of a small body. */
    private static final ThreadLocal<Mac> MACS = ThreadLocal.withInitial(() -> {
        try {
            return Mac.getInstance("HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    });

    private WebhookSignature() {
    }

    public static String newSecret() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return PREFIX + Base64.getEncoder().encodeToString(key);
    }

    /** Why {@code secret} is not a usable secret, or empty when it is. */
    public static Optional<String> problem(String secret) {
        if (!secret.startsWith(PREFIX)) {
            return Optional.of("must start with " + PREFIX + " followed by base64");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(secret.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            return Optional.of("is not " + PREFIX + " followed by valid base64");
        }
        if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
            return Optional.of("must decode to " + MIN_SECRET_BYTES + "-" + MAX_SECRET_BYTES + " bytes, got " + key.length);
        }
        return Optional.empty();
    }

    /** The {@code webhook-signature} header value. */
    public static String sign(String secret, String messageId, long timestampSeconds, String body) {
        try {
            Mac mac = MACS.get();
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring(PREFIX.length())), "HmacSHA256"));
            byte[] sig = mac.doFinal((messageId + "." + timestampSeconds + "." + body).getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(sig);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the key is a plain byte array", e);
        }
    }
}
