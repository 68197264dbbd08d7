package dev.metering.app;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/** Runs one started service until SIGTERM/SIGINT (closes it cleanly) or until it stops by itself. */
final class ServiceRunner {

    private ServiceRunner() {
    }

    /**
     * Blocks until SIGTERM or SIGINT (the service is then closed on this thread) or until
     * {@code running} turns false. The signals are handled as events ({@link Signals}) rather than
     * by a shutdown hook: a JVM that exits because of a signal exits with 128 + the signal number
     * (143 after SIGTERM) whatever its hooks do, while a handled signal lets {@code main} exit with
     * the code returned here. A shutdown hook still closes the service when the JVM exits another way.
     *
     * @return 0 after a requested stop, 1 when the service stopped by itself (a failure)
     */
    static int runUntilStopped(String name, AutoCloseable service, BooleanSupplier running) {
        CountDownLatch stopRequested = new CountDownLatch(1);
        AtomicBoolean closed = new AtomicBoolean();
        Runnable close = () -> {
            if (closed.compareAndSet(false, true)) {
                try {
                    service.close();
                } catch (Exception e) {
                    System.err.println(name + ": error while stopping: " + e);
                }
            }
        };
        Thread hook = new Thread(close, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        Signals.onInterruptOrTerminate(stopRequested::countDown);
        try {
            while (running.getAsBoolean()) {
                if (stopRequested.await(Duration.ofMillis(500).toMillis(), TimeUnit.MILLISECONDS)) {
                    close.run();
                    return 0;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close.run();
            return 1;
        }
        if (stopRequested.getCount() == 0) {
            close.run();
            return 0;
        }
        System.err.println(name + " stopped on its own (see the log above)");
        close.run();
        return 1;
    }
}
