package dev.metering.devstack;

/** A child main for {@link ParentWatchdogIT}: does nothing until the watchdog ends the JVM. */
public final class SleepForeverMain {

    private SleepForeverMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        new java.util.concurrent.CountDownLatch(1).await();
    }
}
