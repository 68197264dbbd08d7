package dev.metering.app;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where the bench's CPU goes: this JVM's threads by role (from their names, via {@link ThreadMXBean})
 * and the child processes it started (broker, registry, PostgreSQL, from {@code /proc}). A sample
 * is CPU nanoseconds by part; two samples give the CPU each part used in between. Outside Linux the
 * child processes are not measured.
 */
final class CpuSampler {

    /** {@code /proc/<pid>/stat} counts in clock ticks of 10 ms (USER_HZ is 100 on every Linux platform Java runs on). */
    private static final long NANOS_PER_TICK = 10_000_000L;

    /** The parts, in print order. */
    static final List<String> PARTS = List.of("streams", "sink", "api", "bench load and probes", "JIT compilers",
            "GC", "other JVM threads", "broker", "registry", "PostgreSQL", "other processes");

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    /** CPU nanoseconds used so far by each part (threads that ended since are not counted). */
    Map<String, Long> sample() {
        Map<String, Long> cpu = new LinkedHashMap<>();
        PARTS.forEach(p -> cpu.put(p, 0L));
        if (threads.isThreadCpuTimeSupported()) {
            for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (info != null) {
                    long nanos = threads.getThreadCpuTime(info.getThreadId());
                    if (nanos > 0) {
                        cpu.merge(threadPart(info.getThreadName()), nanos, Long::sum);
                    }
                }
            }
        }
        cpu.merge("JIT compilers", jitAndGcNanos(true), Long::sum);
        cpu.merge("GC", jitAndGcNanos(false), Long::sum);
        ProcessHandle.current().descendants().forEach(p -> {
            long nanos = processNanos(p.pid());
            if (nanos > 0) {
                cpu.merge(processPart(p.info().commandLine().orElse("")), nanos, Long::sum);
            }
        });
        return cpu;
    }

    /** The part a JVM thread belongs to, by the names the services give their threads. */
    static String threadPart(String name) {
        // Kafka clients name their threads "<kind> | <client id>", the client ids start with the service's
        if (name.contains("metering-streams")) {
            return "streams";
        }
        if (name.contains("metering-sink")) {
            return "sink";
        }
        if (name.startsWith("billing-api") || name.contains("metering-billing-api")) {
            return "api";
        }
        if (name.equals("main") || name.startsWith("bench-") || name.startsWith("HttpClient-")
                || name.contains("metering-usage-meter")) {
            return "bench load and probes";
        }
        return "other JVM threads";
    }

    static String processPart(String commandLine) {
        if (commandLine.contains("postgres")) {
            return "PostgreSQL";
        }
        if (commandLine.contains("kafka")) {
            return "broker";
        }
        if (commandLine.contains("quarkus") || commandLine.contains("apicurio")) {
            return "registry";
        }
        return "other processes";
    }

    /**
     * The JIT compiler or GC threads' CPU: not Java threads, so not in {@link ThreadMXBean}; read
     * from {@code /proc/self/task/<tid>/comm} and {@code stat} (Linux), else 0.
     */
    private static long jitAndGcNanos(boolean jit) {
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return 0;
        }
        long total = 0;
        try (var dirs = Files.list(tasks)) {
            for (Path task : dirs.collect(Collectors.toList())) {
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm"), StandardCharsets.UTF_8).trim();
                } catch (IOException e) {
                    continue; // the thread ended
                }
                boolean isJit = comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler");
                boolean isGc = comm.startsWith("GC Thread") || comm.startsWith("G1 ");
                if (jit ? isJit : isGc) {
                    total += statNanos(task.resolve("stat"));
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return total;
    }

    private static long processNanos(long pid) {
        return statNanos(Path.of("/proc", Long.toString(pid), "stat"));
    }

    /** utime + stime of a {@code /proc/.../stat} file, in nanoseconds; 0 when unreadable. */
    static long statNanos(Path stat) {
        try {
            return parseStat(Files.readString(stat, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Fields 14 and 15 (utime, stime), counted after the command name's closing parenthesis. */
    static long parseStat(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields[0] is field 3 (state): utime is field 14, stime field 15
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * NANOS_PER_TICK;
    }

    /** "part N µs, ..." per event between two samples, largest first, and the cores used in all. */
    static String perEvent(Map<String, Long> before, Map<String, Long> after, long events, double seconds) {
        Map<String, Long> used = new LinkedHashMap<>();
        long total = 0;
        for (String part : PARTS) {
            long d = Math.max(0, after.getOrDefault(part, 0L) - before.getOrDefault(part, 0L));
            used.put(part, d);
            total += d;
        }
        StringBuilder out = new StringBuilder();
        used.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .filter(e -> e.getValue() > 0)
                .forEach(e -> out.append(out.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
                        .append(events == 0 ? 0 : e.getValue() / 1000 / events).append(" µs"));
        return String.format(java.util.Locale.ROOT, "%s; in all %d µs an event, %.2f cores", out, events == 0 ? 0 : total / 1000 / events,
                seconds <= 0 ? 0 : total / 1e9 / seconds);
    }
}
