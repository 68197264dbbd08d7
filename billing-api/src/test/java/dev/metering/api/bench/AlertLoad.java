package dev.metering.api.bench;

import com.sun.net.httpserver.HttpServer;
import dev.metering.api.BillingApi;
import dev.metering.api.it.SinkRows;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jooq.impl.DSL;

/**
 * Usage that crosses thresholds next to a benchmark's load: {@code perSecond} new orgs a second
 * jump to 170 messages today (past 80% of the bench catalog's 200), written as the sink writes
 * them, with a local webhook receiver registered for their alerts. Nothing when {@code perSecond} is 0.
 */
final class AlertLoad implements AutoCloseable {

    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private HttpServer receiver;

    /**
     * Removes the usage of earlier runs' crossing orgs, which a detector started now would find in
     * its look-back and alert all at once (a run with alerts off leaves them unalerted), and the
     * endpoints of earlier runs.
     */
    static void clean(org.jooq.DSLContext db) {
        for (String table : new String[] {"usage_hourly", "usage_daily", "org_usage_hourly", "org_usage_daily"}) {
            db.execute("DELETE FROM metering." + table + " WHERE org_id LIKE 'cross-%'");
        }
        // and earlier runs' receivers, gone now (their deliveries with them)
        db.execute("DELETE FROM metering.webhook_endpoints");
    }

    AlertLoad(BillingApi api, String adminToken, String url, String user, String password, int perSecond) throws Exception {
        if (perSecond <= 0) {
            return;
        }
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", ex -> {
            ex.getRequestBody().readAllBytes();
            received.incrementAndGet();
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        receiver.setExecutor(Executors.newFixedThreadPool(2));
        receiver.start();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + api.port() + "/api/v1/webhooks"))
                .header("Authorization", "Bearer " + adminToken).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort()
                        + "/hook\"}")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IllegalStateException(r.statusCode() + " " + r.body());
        }
        SinkRows sink = new SinkRows(DSL.using(url, user, password));
        String run = Long.toString(System.currentTimeMillis(), 36);
        long periodMicros = 1_000_000L / perSecond;
        writer.scheduleAtFixedRate(() -> sink.messages("cross-" + run + "-" + written.incrementAndGet(), "",
                Clock.systemUTC().instant(), 170), 0, periodMicros, TimeUnit.MICROSECONDS);
    }

    @Override
    public void close() {
        writer.shutdownNow();
        if (receiver != null) {
            System.out.printf("alert load: %d orgs crossed 80%%, %d webhooks received%n", written.get(), received.get());
            receiver.stop(0);
        }
    }
}
