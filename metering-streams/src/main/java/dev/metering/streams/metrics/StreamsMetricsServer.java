package dev.metering.streams.metrics;

import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * Serves the streams service's registry in the Prometheus text format on {@code GET /metrics}
 * (JDK HttpServer: the prometheus httpserver exporter is not published for the managed version).
 * The sink has its own: metering-events, the module both share, is embedded by chat services and
 * carries no Prometheus dependency.
 */
public final class StreamsMetricsServer implements AutoCloseable {

    private final HttpServer server;

    private StreamsMetricsServer(HttpServer server) {
        this.server = server;
    }

    /** Starts serving on {@code port} (0: any free port). */
    public static StreamsMetricsServer start(int port, PrometheusRegistry registry) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
        server.createContext("/metrics", exchange -> {
            try (exchange) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                writer.write(body, registry.scrape(), EscapingScheme.DEFAULT);
                exchange.getResponseHeaders().set("Content-Type", writer.getContentType());
                exchange.sendResponseHeaders(200, body.size());
                try (OutputStream out = exchange.getResponseBody()) {
                    body.writeTo(out);
                }
            }
        });
        server.start();
        return new StreamsMetricsServer(server);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
