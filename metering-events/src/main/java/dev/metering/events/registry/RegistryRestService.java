package dev.metering.events.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's REST API as JSON requests and answers, no caching (Confluent's
 * {@code RestService}): failover across the base URLs, retries with backoff for I/O errors and
 * 5xx, redirects within the same origin only, response bodies bounded, 4xx turned into
 * {@link SchemaRegistryException}s. {@link HttpSchemaRegistryClient} caches on top of it.
 */
final class RegistryRestService {

    private static final Logger log = LoggerFactory.getLogger(HttpSchemaRegistryClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MAX_RESPONSE_BYTES_CONFIG = HttpSchemaRegistryClient.MAX_RESPONSE_BYTES_CONFIG;
    private static final String URL_CONFIG = HttpSchemaRegistryClient.URL_CONFIG;
    private static final String CONTENT_TYPE = HttpSchemaRegistryClient.CONTENT_TYPE;
    private static final String ACCEPT = HttpSchemaRegistryClient.ACCEPT;
    private static final int MAX_REDIRECTS = HttpSchemaRegistryClient.MAX_REDIRECTS;

    private final List<URI> urls;
    private final AtomicInteger currentUrl = new AtomicInteger();
    private final String authorization;
    private final Duration requestTimeout;
    private final int maxRetries;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final int maxResponseBytes;
    private final HttpSchemaRegistryClient.Sleeper sleeper;
    private final HttpClient http;

    RegistryRestService(List<URI> urls, String authorization, Duration connectTimeout, Duration requestTimeout,
            int maxRetries, Duration initialBackoff, Duration maxBackoff, int maxResponseBytes,
            HttpSchemaRegistryClient.Sleeper sleeper) {
        this.urls = List.copyOf(urls);
        this.authorization = authorization;
        this.requestTimeout = requestTimeout;
        this.maxRetries = maxRetries;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
        this.maxResponseBytes = maxResponseBytes;
        this.sleeper = sleeper;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER) // followed by hand, same origin only
                .build();
    }

    List<URI> urls() {
        return urls;
    }

    /**
     * Sends one request with retries: I/O errors (moving on to the next URL) and 5xx answers are
     * retried with exponential backoff; any other non-2xx answer is thrown at once.
     */
    JsonNode send(String method, String pathAndQuery, JsonNode body) {
        String request = method + " " + pathAndQuery;
        byte[] bytes = body == null ? null : body.toString().getBytes(StandardCharsets.UTF_8);
        Duration backoff = initialBackoff;
        for (int attempt = 0; ; attempt++) {
            int urlIndex = Math.floorMod(currentUrl.get(), urls.size());
            URI base = urls.get(urlIndex);
            RuntimeException failure;
            try {
                HttpResponse<CappedBody> response = exchange(base, pathAndQuery, method, bytes, request);
                int status = response.statusCode();
                CappedBody responseBody = response.body();
                if (status >= 200 && status < 300) {
                    if (responseBody.overflow()) {
                        throw SchemaRegistryException.unusableAnswer(status, request + " returned a body over "
                                + maxResponseBytes + " bytes (" + MAX_RESPONSE_BYTES_CONFIG + "); not read", null);
                    }
                    return parseBody(responseBody.bytes(), status, request);
                }
                SchemaRegistryException refusal = refusal(status, responseBody.bytes(), request);
                if (!refusal.isTransient()) {
                    throw refusal;
                }
                failure = refusal;
            } catch (IOException e) {
                currentUrl.compareAndSet(urlIndex, urlIndex + 1);
                failure = new SchemaRegistryException(request + " to " + base + " failed after "
                        + (attempt + 1) + " attempt(s): " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException(request + " interrupted", e);
            }
            if (attempt >= maxRetries) {
                throw failure;
            }
            log.debug("{} failed (attempt {}), retrying in {}: {}", request, attempt + 1, backoff, failure.getMessage());
            try {
                sleeper.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException(request + " interrupted while backing off", e);
            }
            backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
        }
    }

    /**
     * One exchange, following redirects within the base URL's origin only: the Authorization
     * header must never reach another host, and a downgrade from https is another origin too.
     * The whole exchange, body included, is bounded by the request timeout.
     */
    private HttpResponse<CappedBody> exchange(URI base, String pathAndQuery, String method, byte[] bytes, String request)
            throws IOException, InterruptedException {
        String baseText = base.toString();
        if (base.getUserInfo() != null) {
            baseText = baseText.replace(base.getRawUserInfo() + "@", "");
        }
        URI target = URI.create(baseText.replaceFirst("/+$", "") + pathAndQuery);
        for (int redirects = 0; ; redirects++) {
            HttpResponse<CappedBody> response = await(http.sendAsync(httpRequest(target, method, bytes), CappedBody.handler(maxResponseBytes)),
                    request + " to " + base);
            int status = response.statusCode();
            if (!isRedirect(status)) {
                return response;
            }
            String location = response.headers().firstValue("Location").orElse(null);
            if (location == null) {
                return response; // a 3xx without a target: reported as a refusal
            }
            URI next;
            try {
                next = target.resolve(location.trim());
            } catch (IllegalArgumentException e) {
                throw SchemaRegistryException.unusableAnswer(status, request + " was redirected to an invalid URL", e);
            }
            if (!sameOrigin(target, next)) {
                throw SchemaRegistryException.unusableAnswer(status, request + " was redirected (HTTP " + status
                        + ") to another origin, " + origin(next) + ", which is not followed so that credentials stay"
                        + " with " + origin(target) + "; set " + URL_CONFIG + " to the registry's real address", null);
            }
            if (redirects >= MAX_REDIRECTS) {
                throw SchemaRegistryException.unusableAnswer(status, request + " was redirected more than "
                        + MAX_REDIRECTS + " times", null);
            }
            target = next;
        }
    }

    private HttpResponse<CappedBody> await(CompletableFuture<HttpResponse<CappedBody>> pending, String what)
            throws IOException, InterruptedException {
        try {
            return pending.get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw new HttpTimeoutException(what + " did not complete within " + requestTimeout);
        } catch (InterruptedException e) {
            pending.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IOException(cause);
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        if (uri.getPort() >= 0) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    private static String origin(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + ":" + port(uri);
    }

    private HttpRequest httpRequest(URI target, String method, byte[] body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(target)
                .timeout(requestTimeout)
                .header("Accept", ACCEPT)
                .method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            builder.header("Content-Type", CONTENT_TYPE);
        }
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        return builder.build();
    }

    private static JsonNode parseBody(byte[] body, int status, String request) {
        if (body == null || body.length == 0) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw SchemaRegistryException.unusableAnswer(status, request + " returned a body that is not JSON: "
                    + e.getMessage(), e);
        }
    }

    private static SchemaRegistryException refusal(int status, byte[] body, String request) {
        String text = body == null ? "" : new String(body, StandardCharsets.UTF_8);
        try {
            JsonNode json = JSON.readTree(text);
            if (json != null && json.has("error_code")) {
                return new SchemaRegistryException(status, json.get("error_code").asInt(status),
                        json.path("message").asText(""), request);
            }
        } catch (IOException notJson) {
            // fall through: some proxies answer with HTML or plain text
        }
        return new SchemaRegistryException(status, status, text.length() > 500 ? text.substring(0, 500) : text, request);
    }
}
