package dev.metering.app;

import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM as an ordinary event, so a command stops its services in order
 * (streams and sink before the broker and the database) instead of racing the devstack's own
 * shutdown hook, which stops the child processes at JVM exit.
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
