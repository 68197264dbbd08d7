package dev.metering.streams.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A schema registry that is a real one behind a hostile front: requests go to the real Apicurio,
 * except ids it is told to refuse (403, as a registry ACL would) and while it is told to be down
 * (503, or the connection closed without an answer, as an unreachable registry).
 */
final class RegistryProxy implements AutoCloseable {

    enum Mode { UP, ANSWER_503, DROP_CONNECTIONS }

    private final String upstream;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Set<Integer> refusedIds = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> requestsByPath = new ConcurrentHashMap<>();
    private volatile Mode mode = Mode.UP;

    RegistryProxy(String upstream) {
        this.upstream = upstream.replaceFirst("/+$", "");
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void refuse(int schemaId) {
        refusedIds.add(schemaId);
    }

    void mode(Mode mode) {
        this.mode = mode;
    }

    /** How many requests asked for {@code path} (e.g. {@code /schemas/ids/7}). */
    int requests(String path) {
        AtomicInteger n = requestsByPath.get(path);
        return n == null ? 0 : n.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        requestsByPath.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        try {
            if (mode == Mode.DROP_CONNECTIONS) {
                return; // closed without an answer
            }
            if (mode == Mode.ANSWER_503) {
                answer(exchange, 503, "{\"error_code\":50302,\"message\":\"registry unavailable\"}");
                return;
            }
            for (int id : refusedIds) {
                if (path.equals("/schemas/ids/" + id)) {
                    answer(exchange, 403, "{\"error_code\":40301,\"message\":\"User cannot access the resource.\"}");
                    return;
                }
            }
            forward(exchange);
        } finally {
            exchange.close();
        }
    }

    private void forward(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String query = exchange.getRequestURI().getRawQuery();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(upstream + exchange.getRequestURI().getRawPath()
                        + (query == null ? "" : "?" + query)))
                .timeout(Duration.ofSeconds(30))
                .method(exchange.getRequestMethod(), body.length == 0
                        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        HttpResponse<byte[]> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        exchange.getResponseHeaders().add("Content-Type",
                response.headers().firstValue("Content-Type").orElse("application/json"));
        exchange.sendResponseHeaders(response.statusCode(), response.body().length == 0 ? -1 : response.body().length);
        if (response.body().length > 0) {
            exchange.getResponseBody().write(response.body());
        }
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
