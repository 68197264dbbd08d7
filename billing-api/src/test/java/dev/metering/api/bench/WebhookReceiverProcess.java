package dev.metering.api.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The webhook receiver of {@link AlertLoad}, in a JVM of its own: a receiver is the user's CPU,
 * not the server's, so the benchmarked server JVM's CPU (and heap, GC and JIT) stays ours alone.
 * Answers 204 to every POST on {@code /hook}; prints {@code port <n>} when it listens and
 * {@code received <n>} when its standard input closes (its parent is done or died), then exits.
 */
public final class WebhookReceiverProcess {

    private WebhookReceiverProcess() {
    }

    public static void main(String[] args) throws Exception {
        AtomicLong received = new AtomicLong();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/hook", ex -> {
            try (InputStream in = ex.getRequestBody()) {
                in.readAllBytes();
            }
            received.incrementAndGet();
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        ExecutorService threads = Executors.newFixedThreadPool(2);
        server.setExecutor(threads);
        server.start();
        System.out.println("port " + server.getAddress().getPort());
        System.out.flush();
        while (System.in.read() >= 0) {
            // nothing to read: waits for the parent to close the pipe
        }
        server.stop(0);
        threads.shutdownNow();
        System.out.println("received " + received.get());
        System.out.flush();
    }
}
