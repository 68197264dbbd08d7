package dev.metering.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Entry point of every child JVM the devstack starts: runs the given main class and exits the JVM
 * as soon as its standard input reaches end-of-file.
 *
 * <p>The parent keeps the write end of the child's stdin pipe open for the child's whole life. The
 * kernel closes it when the parent exits for any reason, including {@code kill -9}, so a child can
 * never outlive the JVM that started it. Closing the pipe is also how the parent asks for an
 * orderly stop: {@link System#exit} runs the server's own shutdown hooks; if they hang, the JVM is
 * halted after a grace period.
 *
 * <p>This class must stay self-contained (JDK only, no nested classes): the registry's child JVM
 * gets this single class file copied next to the registry jar as its whole extra classpath.
 */
public final class ParentWatchdog {

    private static final long SHUTDOWN_GRACE_MILLIS = 30_000;

    private ParentWatchdog() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            System.err.println("usage: ParentWatchdog <main-class> [args...]");
            System.exit(2);
        }
        Thread watcher = new Thread(ParentWatchdog::exitWhenStdinCloses, "devstack-parent-watchdog");
        watcher.setDaemon(true);
        watcher.start();

        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void exitWhenStdinCloses() {
        byte[] buffer = new byte[256];
        try (InputStream in = System.in) {
            while (in.read(buffer) >= 0) {
                // the parent never writes; anything read is ignored
            }
        } catch (IOException e) {
            // a broken pipe means the same as end-of-file: the parent is gone
        }
        Thread halter = new Thread(() -> {
            try {
                Thread.sleep(SHUTDOWN_GRACE_MILLIS);
            } catch (InterruptedException ignored) {
                // halting anyway
            }
            System.err.println("devstack: shutdown took longer than " + SHUTDOWN_GRACE_MILLIS + " ms, halting");
            Runtime.getRuntime().halt(1);
        }, "devstack-halter");
        halter.setDaemon(true);
        halter.start();
        System.err.println("devstack: parent closed stdin, shutting down");
        System.exit(0);
    }
}
