package dev.metering.api.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Two API instances on one database: a change through one is visible through the other within a second. */
class CacheCoherenceIT {

    @Test
    void shouldSeeCatalogSubscriptionAndKeyChangesOfAnotherInstanceWithinASecond() {
        String url = ApiServer.freshDatabase("billing_coherence");
        try (ApiServer a = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN);
             ApiServer b = ApiServer.start(url, EnforcementMode.ENFORCE, 0, StalePolicy.FAIL_OPEN)) {
            a.applyCatalog("defaultPlan: free\nplans:\n  - id: free\n  - id: closed\n    limits: [{ id: z, meter: quantity, window: day, max: 0 }]\n");
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(50))
                    .until(() -> b.check("acme", "CHAT_MESSAGE", null).text("/plan").equals("free"));

            a.subscribe("acme", "{\"planId\":\"closed\"}");
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !b.check("acme", "CHAT_MESSAGE", null).json().get("allowed").asBoolean());

            a.applyCatalog("defaultPlan: free\nplans:\n  - id: free\n  - id: closed\n    limits: [{ id: z, meter: quantity, window: day, max: 5 }]\n");
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(50))
                    .until(() -> b.check("acme", "CHAT_MESSAGE", null).json().get("allowed").asBoolean());

            String[] key = a.createKey("acme", "check");
            assertThat(b.get("/api/v1/usage/acme/check/CHAT_MESSAGE", key[1]).status()).isEqualTo(200);
            assertThat(a.delete("/api/v1/api-keys/" + key[0], ApiServer.ADMIN).status()).isEqualTo(204);
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(50))
                    .until(() -> b.get("/api/v1/usage/acme/check/CHAT_MESSAGE", key[1]).status() == 401);
        }
    }
}
