package dev.metering.app;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Runs one started service until SIGTERM/SIGINT (closes it cleanly) or until it stops by itself. */
final class ServiceRunner {

    private ServiceRunner() {
    }

    /**
     * Blocks until the JVM is asked to stop (the service is then closed by a shutdown hook) or
     * {@code running} turns false.
     *
     * @return 0 after a requested stop, 1 when the service stopped by itself (a failure)
     */
    static int runUntilStopped(String name, AutoCloseable service, BooleanSupplier running) {
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            try {
                service.close();
            } catch (Exception e) {
                System.err.println(name + ": error while stopping: " + e);
            } finally {
                closed.countDown();
            }
        }, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            while (running.getAsBoolean()) {
                if (closed.await(Duration.ofMillis(500).toMillis(), TimeUnit.MILLISECONDS)) {
                    return 0;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        if (closed.getCount() == 0) {
            return 0;
        }
        System.err.println(name + " stopped on its own (see the log above)");
        try {
            service.close();
        } catch (Exception e) {
            // already reported
        }
        return 1;
    }
}
