package dev.metering.app;

import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM as an ordinary event, so a command stops its services in order
 * (streams and sink before the broker and the database) and exits with its own exit code: without
 * a handler the JVM runs its shutdown hooks and exits with 128 + the signal number (130, 143).
 * {@code sun.misc.Signal} (module {@code jdk.unsupported}, exported for this use) is the only way the
 * JDK offers to handle a signal.
 */
final class Signals {

    private Signals() {
    }

    static void onInterruptOrTerminate(Runnable action) {
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(name), s -> action.run());
            } catch (IllegalArgumentException e) {
                // signal not available on this platform: the JVM's default handling (shutdown hooks) applies
            }
        }
    }
}
