package dev.metering.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

    @Test
    void shouldMatchTheStandardWebhooksReferenceVector() {
        // the test vector of the Standard Webhooks reference libraries
        assertThat(WebhookSignature.sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330L, "{\"test\": 2432232314}")).isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    @Test
    void shouldCreateSecretsOfThirtyTwoRandomBytesThatValidate() {
        String secret = WebhookSignature.newSecret();
        assertThat(secret).startsWith("whsec_");
        assertThat(Base64.getDecoder().decode(secret.substring(6))).hasSize(32);
        assertThat(WebhookSignature.problem(secret)).isEmpty();
        assertThat(WebhookSignature.newSecret()).isNotEqualTo(secret);
    }

    @Test
    void shouldRefuseSecretsWithoutPrefixNotBase64OrTooShort() {
        assertThat(WebhookSignature.problem("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).contains("must start with whsec_ followed by base64");
        assertThat(WebhookSignature.problem("whsec_not base64!")).contains("is not whsec_ followed by valid base64");
        assertThat(WebhookSignature.problem("whsec_" + Base64.getEncoder().encodeToString(new byte[16])))
                .contains("must decode to 24-64 bytes, got 16");
    }
}
