package dev.metering.sink;

import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * Serves {@code GET /metrics} in the Prometheus text format from the JDK's HTTP server
 * (prometheus-metrics-exporter-httpserver is not published for the version the build pins).
 */
final class MetricsServer implements AutoCloseable {

    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    static MetricsServer start(int port, PrometheusRegistry registry) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
        server.createContext("/metrics", exchange -> {
            try (exchange) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                writer.write(body, registry.scrape());
                exchange.getResponseHeaders().set("Content-Type", writer.getContentType());
                exchange.sendResponseHeaders(200, body.size());
                try (OutputStream out = exchange.getResponseBody()) {
                    body.writeTo(out);
                }
            }
        });
        server.start();
        return new MetricsServer(server);
    }

    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
