package dev.metering.api.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ApiException;
import dev.metering.api.alert.AlertType;
import dev.metering.api.audit.Actor;
import dev.metering.api.http.ServiceRoutes;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code /api/v1/webhooks} (admin): register, list, show and delete receivers of alerts, list an
 * endpoint's deliveries with their attempts, retry one by hand. The secret is returned only by
 * the POST that creates the endpoint.
 */
public final class WebhookRoutes extends ServiceRoutes<WebhookRepository> {

    private static final Set<String> FIELDS = Set.of("url", "events", "orgId", "secret");
    private static final Set<String> STATUSES = Set.of("pending", "delivered", "failed");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_]{1,64}");
    static final int MAX_URL_LENGTH = 2048;
    private static final int MAX_ORG_LENGTH = 256;
    private static final int MAX_ENDPOINTS_LISTED = 1000;
    private static final int MAX_DELIVERIES = 200;
    private static final SecureRandom RANDOM = new SecureRandom();

    public WebhookRoutes(WebhookRepository repository, ObjectMapper mapper, Clock clock) {
        super(repository, mapper, clock);
    }

    @Override
    protected void routes(Javalin app) {
        app.post("/api/v1/webhooks", ctx -> create(ctx, auth.actor(auth.requireAdmin(ctx))));
        app.get("/api/v1/webhooks", ctx -> {
            auth.requireAdmin(ctx);
            ctx.json(Map.of("items", service.endpoints(MAX_ENDPOINTS_LISTED)));
        });
        app.get("/api/v1/webhooks/{id}", ctx -> { auth.requireAdmin(ctx); ctx.json(endpoint(ctx)); });
        app.delete("/api/v1/webhooks/{id}", ctx -> {
            Actor actor = auth.actor(auth.requireAdmin(ctx));
            if (!service.delete(id(ctx), actor)) {
                throw ApiException.notFound("no webhook endpoint '" + ctx.pathParam("id") + "'");
            }
            ctx.status(204);
        });
        app.get("/api/v1/webhooks/{id}/deliveries", ctx -> { auth.requireAdmin(ctx); deliveries(ctx); });
        app.post("/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry", ctx -> { auth.requireAdmin(ctx); retry(ctx); });
    }

    private void create(Context ctx, Actor actor) {
        JsonNode body;
        try {
            body = mapper.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("body", "malformed JSON: " + e.getOriginalMessage());
        }
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("body", "expected a JSON object {url, events, orgId?, secret?}");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw ApiException.badRequest(f, "unknown field (expected " + FIELDS.stream().sorted().toList() + ")");
            }
        }
        String url = url(body.get("url"));
        List<String> events = events(body.get("events"));
        String orgId = null;
        JsonNode org = body.get("orgId");
        if (org != null && !org.isNull()) {
            if (!org.isTextual() || org.asText().isBlank() || org.asText().length() > MAX_ORG_LENGTH) {
                throw ApiException.badRequest("orgId", "must be a string of 1-" + MAX_ORG_LENGTH + " characters");
            }
            orgId = org.asText();
        }
        String secret;
        JsonNode secretNode = body.get("secret");
        if (secretNode == null || secretNode.isNull()) {
            secret = WebhookSignature.newSecret();
        } else {
            if (!secretNode.isTextual()) {
                throw ApiException.badRequest("secret", "expected a string " + WebhookSignature.PREFIX + "<base64>");
            }
            secret = secretNode.asText();
            String problem = WebhookSignature.problem(secret).orElse(null);
            if (problem != null) {
                throw ApiException.badRequest("secret", problem);
            }
        }
        byte[] id = new byte[10];
        RANDOM.nextBytes(id);
        WebhookEndpoint e = new WebhookEndpoint("wh_" + HexFormat.of().formatHex(id), url, events, orgId, clock.instant());
        service.insert(e, secret, actor);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", e.id());
        out.put("url", e.url());
        out.put("events", e.events());
        out.put("orgId", e.orgId());
        out.put("createdAt", e.createdAt());
        out.put("secret", secret);
        ctx.status(201).json(out);
    }

    /** An absolute http(s) URL with a host; anything else (file:, javascript:, relative) is refused. */
    static String url(JsonNode node) {
        if (node == null || node.isNull()) {
            throw ApiException.badRequest("url", "required");
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            throw ApiException.badRequest("url", "expected an http or https URL");
        }
        String text = node.asText().trim();
        if (text.length() > MAX_URL_LENGTH) {
            throw ApiException.badRequest("url", "must be at most " + MAX_URL_LENGTH + " characters");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw ApiException.badRequest("url", "not a URL: " + e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw ApiException.badRequest("url", "must be an http or https URL, got scheme '" + scheme + "'");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw ApiException.badRequest("url", "must name a host");
        }
        if (uri.getFragment() != null) {
            throw ApiException.badRequest("url", "must not have a fragment");
        }
        return text;
    }

    private static List<String> events(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw ApiException.badRequest("events", "expected a list of event types " + types());
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode t = node.get(i);
            if (!t.isTextual() || AlertType.fromWireName(t.asText()).isEmpty()) {
                throw ApiException.badRequest("events[" + i + "]", "unknown event type '" + t.asText() + "' (expected one of "
                        + types() + ")");
            }
            if (!out.contains(t.asText())) {
                out.add(t.asText());
            }
        }
        return out;
    }

    private static List<String> types() {
        return java.util.Arrays.stream(AlertType.values()).map(AlertType::wireName).toList();
    }

    private static String id(Context ctx) {
        String id = ctx.pathParam("id");
        if (!ID.matcher(id).matches()) {
            throw ApiException.badRequest("id", "'" + abbreviate(id) + "' is not a webhook id");
        }
        return id;
    }

    private WebhookEndpoint endpoint(Context ctx) {
        String id = id(ctx);
        return service.endpoint(id).orElseThrow(() -> ApiException.notFound("no webhook endpoint '" + id + "'"));
    }

    private void deliveries(Context ctx) {
        WebhookEndpoint e = endpoint(ctx);
        String status = ctx.queryParam("status");
        if (status != null && status.isEmpty()) {
            status = null;
        }
        if (status != null && !STATUSES.contains(status)) {
            throw ApiException.badRequest("status", "'" + abbreviate(status) + "' is not one of pending, delivered, failed");
        }
        int limit = 50;
        String limitText = ctx.queryParam("limit");
        if (limitText != null && !limitText.isEmpty()) {
            try {
                limit = Integer.parseInt(limitText);
            } catch (NumberFormatException ex) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_DELIVERIES) {
                throw ApiException.badRequest("limit", "must be a whole number from 1 to " + MAX_DELIVERIES);
            }
        }
        ctx.json(Map.of("items", service.deliveries(e.id(), status, limit)));
    }

    private void retry(Context ctx) {
        WebhookEndpoint e = endpoint(ctx);
        String text = ctx.pathParam("deliveryId");
        long deliveryId;
        try {
            deliveryId = Long.parseLong(text);
        } catch (NumberFormatException ex) {
            deliveryId = -1;
        }
        if (deliveryId < 1) {
            throw ApiException.badRequest("deliveryId", "'" + abbreviate(text) + "' is not a delivery id");
        }
        if (!service.retryNow(e.id(), deliveryId, clock.instant())) {
            throw ApiException.notFound("endpoint " + e.id() + " has no delivery " + deliveryId);
        }
        long id = deliveryId;
        ctx.status(202).json(service.delivery(e.id(), id).orElseThrow(
                () -> ApiException.notFound("endpoint " + e.id() + " has no delivery " + id)));
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
