package dev.metering.sink;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer thread and the one batch it may hold: the polling thread hands a decoded batch over,
 * the writer writes it in one transaction, retrying until it commits, and the polling thread takes
 * it back once written to commit its offsets. Every method but {@link #stopRetrying()} is called
 * from the polling thread.
 */
final class WriterThread implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WriterThread.class);
    /** On shutdown, how long a batch in flight may take to reach the database. */
    static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(20);

    /**
     * A batch handed to the writer thread: its raw records (offsets), decoded form and outcome;
     * {@code startedNanos} is the hand-off time minus the decoding time.
     */
    record InFlight(Batch batch, PreparedBatch prepared, long startedNanos, Future<SinkWriter.Result> result) {
    }

    /** A batch whose transaction committed. */
    record Written(Batch batch, PreparedBatch prepared, long startedNanos, SinkWriter.Result result) {
    }

    private final SinkWriter writer;
    private final SinkMetrics metrics;
    private final LoopSettings settings;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "metering-sink-writer");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean retrying = true;
    /** The batch the writer thread is writing, or null. */
    private InFlight inFlight;

    WriterThread(SinkWriter writer, SinkMetrics metrics, LoopSettings settings) {
        this.writer = writer;
        this.metrics = metrics;
        this.settings = settings;
    }

    boolean busy() {
        return inFlight != null;
    }

    /** (1) The writer thread writes the batch in one transaction, retrying until it commits. */
    void submit(PendingBatch.Decoded batch) {
        PreparedBatch toWrite = batch.prepared();
        inFlight = new InFlight(batch.batch(), toWrite, System.nanoTime() - batch.decodeNanos(),
                thread.submit(() -> writeWithRetries(toWrite)));
    }

    /** The offset of the partition's first record in the batch in flight, or null. */
    Long firstOffset(TopicPartition tp) {
        return inFlight == null ? null : inFlight.batch().firstOffset(tp);
    }

    /** The batch in flight once its transaction committed (the writer is then free), else null. */
    Written takeIfWritten() {
        if (inFlight == null || !inFlight.result().isDone()) {
            return null;
        }
        InFlight done = inFlight;
        inFlight = null;
        try {
            return new Written(done.batch(), done.prepared(), done.startedNanos(), done.result().get());
        } catch (ExecutionException e) {
            throw new IllegalStateException("the writer thread failed; the batch is not committed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        }
    }

    /** Waits up to {@code timeout} for the batch in flight (not at all when there is none). */
    void await(Duration timeout) {
        if (inFlight == null) {
            return;
        }
        try {
            inFlight.result().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // still writing, or failed: takeIfWritten() reports a failure
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        }
    }

    /**
     * Shutdown (after {@link #stopRetrying()}): waits up to {@link #SHUTDOWN_WAIT} for the batch in
     * flight. Returns whether its transaction committed; one that did not is abandoned uncommitted.
     */
    boolean awaitOnShutdown() {
        if (inFlight == null) {
            return false;
        }
        try {
            inFlight.result().get(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            log.warn("batch in flight not written within {}; abandoned uncommitted", SHUTDOWN_WAIT);
        } catch (ExecutionException e) {
            log.info("batch in flight abandoned uncommitted: {}", e.getCause().toString());
            inFlight = null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** Ends the retries of the batch in flight; safe from any thread. */
    void stopRetrying() {
        retrying = false;
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("writer thread still busy after {}", SHUTDOWN_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * On the writer thread: writes the batch until its transaction commits. Transient failures
     * (database away) are retried forever with backoff; after repeated permanent failures the batch
     * is written record by record (a refused window update becomes a dead letter). Meanwhile the
     * polling thread keeps the consumer in its group, its partitions paused once the next batch is
     * full. Shutdown ends the retries: the batch is then abandoned uncommitted.
     */
    private SinkWriter.Result writeWithRetries(PreparedBatch batch) throws InterruptedException {
        int attempt = 0;
        int permanentFailures = 0;
        while (true) {
            try {
                return permanentFailures > settings.permanentFailureRetries()
                        ? writer.writeIsolating(batch)
                        : writer.write(batch);
            } catch (RuntimeException e) {
                if (Failures.isTransient(e)) {
                    metrics.retries.labelValues("transient").inc();
                    log.warn("batch of {} records not written, will retry: {}", batch.records(), Failures.describe(e));
                } else {
                    permanentFailures++;
                    metrics.retries.labelValues("permanent").inc();
                    if (permanentFailures > settings.permanentFailureRetries() + 1) {
                        // the record-by-record path itself failed for good: a broken schema or a bug,
                        // not bad data; keep the records (no commit) and keep trying, loudly
                        log.error("batch cannot be written even record by record; retrying", e);
                    } else {
                        log.warn("batch of {} records refused by the database ({}); attempt {} of {} before "
                                        + "writing record by record", batch.records(), Failures.describe(e),
                                permanentFailures, settings.permanentFailureRetries() + 1);
                    }
                }
                long deadline = System.nanoTime() + settings.backoffNanos(attempt++);
                long remaining;
                while ((remaining = deadline - System.nanoTime()) > 0) {
                    if (!retrying) {
                        throw new InterruptedException("shutdown: batch abandoned uncommitted");
                    }
                    TimeUnit.NANOSECONDS.sleep(Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(50)));
                }
            }
        }
    }
}
