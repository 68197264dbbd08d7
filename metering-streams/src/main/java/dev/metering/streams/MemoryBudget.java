package dev.metering.streams;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Units of memory (index entries, rows) that the tasks of one instance may hold together: shared
 * by the stream threads, so taken and given back atomically.
 */
public class MemoryBudget {

    private final AtomicLong free;

    protected MemoryBudget(long units) {
        this.free = new AtomicLong(units);
    }

    /** Takes {@code units}, or nothing and false when fewer are free. */
    public boolean take(long units) {
        if (free.addAndGet(-units) >= 0) {
            return true;
        }
        free.addAndGet(units);
        return false;
    }

    public void giveBack(long units) {
        free.addAndGet(units);
    }

    public long free() {
        return free.get();
    }
}
