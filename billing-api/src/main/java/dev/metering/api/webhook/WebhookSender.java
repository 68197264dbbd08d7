package dev.metering.api.webhook;

import dev.metering.api.alert.AlertMetrics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends due deliveries of the outbox as signed Standard Webhooks (POST, JSON body, headers
 * {@code webhook-id}, {@code webhook-timestamp}, {@code webhook-signature}). 2xx is delivered;
 * anything else (other statuses, redirects, which are not followed, timeouts, refused
 * connections) is retried per {@link Backoff}. Requests are asynchronous; an endpoint with
 * {@link #PER_ENDPOINT} requests in flight gets no more until one ends (so at most twice that), so a
 * slow or dead receiver delays only its own deliveries, never checks, ingest or other receivers.
 * Finished requests are recorded together (one statement for those finishing within
 * {@link #LINGER} of each other) and start the next pass at once, so a healthy receiver is not
 * paced by the poll.
 */
public final class WebhookSender implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
    static final int PER_ENDPOINT = 8;
    static final int MAX_IN_FLIGHT = 64;
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** Longer than any attempt can take: a claim still unanswered then is retried (its sender died). */
    static final Duration LEASE = Duration.ofSeconds(30);
    static final int MAX_LOGGED_BODY = 1024;
    /** Run the HTTP client and each finished attempt's bookkeeping (a transaction, then the next claim). */
    static final int THREADS = 2;
    /** How long finished attempts wait for the others in flight before they are recorded together. */
    static final Duration LINGER = Duration.ofMillis(20);

    private final WebhookRepository repository;
    private final AlertMetrics metrics;
    private final Clock clock;
    private final ExecutorService executor;
    /**
     * A thread per request in flight (at most {@link #MAX_IN_FLIGHT}, idle ones end): the blocking
     * send completes on it, where {@code sendAsync} hands every response to the common pool, which on
     * a machine of 2 cores or fewer starts a new thread for each.
     */
    private final ThreadPoolExecutor requests;
    private final Executor lingering;
    private final HttpClient http;
    private final Random random = new Random();
    private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final AtomicBoolean passQueued = new AtomicBoolean();
    private final ConcurrentLinkedQueue<WebhookRepository.Outcome> finished = new ConcurrentLinkedQueue<>();

    public WebhookSender(WebhookRepository repository, AlertMetrics metrics, Clock clock) {
        this.repository = repository;
        this.metrics = metrics;
        this.clock = clock;
        this.executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "webhook-sender");
            t.setDaemon(true);
            return t;
        });
        this.requests = new ThreadPoolExecutor(MAX_IN_FLIGHT, MAX_IN_FLIGHT, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "webhook-request");
                    t.setDaemon(true);
                    return t;
                });
        this.requests.allowCoreThreadTimeOut(true);
        this.lingering = CompletableFuture.delayedExecutor(LINGER.toMillis(), TimeUnit.MILLISECONDS, executor);
        this.http = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(executor)
                .build();
    }

    /** Claims due deliveries and starts sending them; returns how many were started. */
    public synchronized int runOnce() {
        int room = MAX_IN_FLIGHT - total.get();
        if (room <= 0) {
            return 0;
        }
        Instant now = clock.instant();
        List<String> busy = inFlight.entrySet().stream().filter(e -> e.getValue().get() >= PER_ENDPOINT).map(e -> e.getKey()).toList();
        List<WebhookRepository.Claimed> claimed = repository.claimDue(now, now.plus(LEASE), room, PER_ENDPOINT, busy);
        for (WebhookRepository.Claimed c : claimed) {
            send(c);
        }
        return claimed.size();
    }

    /** Updates the oldest-pending gauge. */
    public void measure() {
        Instant oldest = repository.oldestPending();
        metrics.oldestPending(oldest == null ? 0 : Math.max(0, Duration.between(oldest, clock.instant()).toMillis() / 1000.0));
    }

    private void send(WebhookRepository.Claimed c) {
        inFlight.computeIfAbsent(c.endpointId(), k -> new AtomicInteger()).incrementAndGet();
        total.incrementAndGet();
        Instant at = clock.instant();
        long started = System.nanoTime();
        HttpRequest request;
        try {
            long timestamp = at.getEpochSecond();
            request = HttpRequest.newBuilder(URI.create(c.url()))
                    .timeout(REQUEST_TIMEOUT)
                    .header("Content-Type", "application/json")
                    .header("webhook-id", c.messageId())
                    .header("webhook-timestamp", Long.toString(timestamp))
                    .header("webhook-signature", WebhookSignature.sign(c.secret(), c.messageId(), timestamp, c.body()))
                    .POST(HttpRequest.BodyPublishers.ofString(c.body()))
                    .build();
        } catch (RuntimeException e) {
            finish(c, at, started, null, "invalid request: " + e.getMessage());
            return;
        }
        try {
            requests.execute(() -> {
                try {
                    HttpResponse<String> response = http.send(request, BoundedBody.handler(MAX_LOGGED_BODY));
                    int status = response.statusCode();
                    finish(c, at, started, status, status / 100 == 2 ? null : "HTTP " + status + ": " + abbreviate(response.body()));
                } catch (HttpTimeoutException e) {
                    finish(c, at, started, null, "timeout");
                } catch (IOException | RuntimeException e) {
                    finish(c, at, started, null, e.toString());
                } catch (InterruptedException e) {
                    // closing: the lease runs out and another pass sends it again (same webhook-id)
                    Thread.currentThread().interrupt();
                }
            });
        } catch (RejectedExecutionException e) {
            // closing, as above
        }
    }

    private void finish(WebhookRepository.Claimed c, Instant at, long started, Integer status, String error) {
        long ms = (System.nanoTime() - started) / 1_000_000;
        boolean delivered = status != null && status / 100 == 2;
        Instant next = delivered ? null : Backoff.next(c.attempt(), clock.instant(), c.retryFrom(), random);
        finished.add(new WebhookRepository.Outcome(c, at, status, error, ms, delivered, next));
        // attempts finishing together are recorded in one statement, then share one claim of the next due
        // deliveries; while others are still in flight it waits a moment for them, so a busy sender
        // spends a few statements per batch, not per delivery
        if (passQueued.compareAndSet(false, true)) {
            Runnable pass = () -> {
                passQueued.set(false);
                try {
                    record();
                    runOnce();
                } catch (RuntimeException e) {
                    log.warn("webhook sending failed: {}", e.toString());
                }
            };
            try {
                (finished.size() < total.get() ? lingering : executor).execute(pass);
            } catch (RejectedExecutionException e) {
                passQueued.set(false);
            }
        }
    }

    /** Records the finished attempts; their endpoints have room again afterwards. */
    private void record() {
        List<WebhookRepository.Outcome> outcomes = new ArrayList<>();
        for (WebhookRepository.Outcome o; (o = finished.poll()) != null; ) {
            outcomes.add(o);
        }
        if (outcomes.isEmpty()) {
            return;
        }
        try {
            repository.completeAll(outcomes, clock.instant());
            for (WebhookRepository.Outcome o : outcomes) {
                metrics.delivery(o.delivered() ? "delivered" : o.nextAttemptAt() == null ? "failed" : "retry");
            }
        } catch (RuntimeException e) {
            // the leases run out and the deliveries are sent again (same webhook-id)
            log.warn("recording {} webhook attempts failed: {}", outcomes.size(), e.toString());
        } finally {
            for (WebhookRepository.Outcome o : outcomes) {
                inFlight.get(o.claimed().endpointId()).decrementAndGet();
                total.decrementAndGet();
            }
        }
    }

    private static String abbreviate(String body) {
        String oneLine = body == null ? "" : body.replaceAll("\\s+", " ").trim();
        return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
    }

    @Override
    public void close() {
        requests.shutdownNow();
        executor.shutdownNow();
    }
}
