package dev.metering.api.bench;

import dev.metering.api.BillingApi;
import dev.metering.api.it.SinkRows;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jooq.impl.DSL;

/**
 * Usage that crosses thresholds next to a benchmark's load: {@code perSecond} new orgs a second
 * jump to 170 messages today (past 80% of the bench catalog's 200), written as the sink writes
 * them, with a local webhook receiver (its own process, {@link WebhookReceiverProcess}) registered
 * for their alerts. Nothing when {@code perSecond} is 0.
 */
final class AlertLoad implements AutoCloseable {

    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong written = new AtomicLong();
    private Process receiver;
    private BufferedReader receiverOut;

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
        // the receiver runs in a JVM of its own, small and with the quick compiler only: it stands
        // for the user's service, whose CPU is not the server's
        receiver = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-XX:+UseSerialGC", "-Xms64m", "-Xmx64m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), WebhookReceiverProcess.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        receiverOut = new BufferedReader(new InputStreamReader(receiver.getInputStream(), StandardCharsets.UTF_8));
        String first = receiverOut.readLine();
        if (first == null || !first.startsWith("port ")) {
            throw new IllegalStateException("webhook receiver did not start: " + first);
        }
        int receiverPort = Integer.parseInt(first.substring(5));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + api.port() + "/api/v1/webhooks"))
                .header("Authorization", "Bearer " + adminToken).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"http://127.0.0.1:" + receiverPort
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

    /** The receiver process's pid, or -1 without one. */
    long receiverPid() {
        return receiver == null ? -1 : receiver.pid();
    }

    @Override
    public void close() {
        writer.shutdownNow();
        if (receiver != null) {
            String received = "?";
            try {
                receiver.getOutputStream().close();
                String line = receiverOut.readLine();
                received = line == null ? "?" : line.replace("received ", "");
                receiver.waitFor(10, TimeUnit.SECONDS);
            } catch (IOException e) {
                // its count is unknown; it is destroyed below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            receiver.destroy();
            System.out.printf("alert load: %d orgs crossed 80%%, %s webhooks received%n", written.get(), received);
        }
    }
}
