package dev.metering.api.webhook;

import java.time.Instant;
import java.util.List;

/** A registered receiver. {@code orgId} null: every org; {@code events} empty: every type. */
public record WebhookEndpoint(String id, String url, List<String> events, String orgId, Instant createdAt) {
    public WebhookEndpoint {
        events = List.copyOf(events);
    }
}
