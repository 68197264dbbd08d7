package dev.metering.app;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Where the bench's CPU goes: this JVM's threads by role (Java threads by name via
 * {@link ThreadMXBean}; JIT, GC and RocksDB threads from {@code /proc/self/task}), and the child
 * processes it started (broker, registry, PostgreSQL, from {@code /proc/<pid>/stat}). A sample is
 * CPU nanoseconds per thread or process; {@link #perEvent} subtracts two samples id by id, so a
 * thread or process that started in between counts from zero. What this JVM used beyond its named
 * threads (threads that ended, VM threads) is "other JVM threads", from the process total.
 * PostgreSQL's share is also split by role: the sink's backends (by application name), other
 * clients, autovacuum, background processes (WAL writer, checkpointer, background writer), and the
 * postmaster with its count of children that exited (autovacuum workers, closed connections) during
 * the interval. Outside Linux only the Java threads are measured.
 */
final class CpuSampler {

    /** {@code /proc/.../stat} counts in clock ticks of 10 ms (USER_HZ is 100 on every Linux platform Java runs on). */
    private static final long NANOS_PER_TICK = 10_000_000L;
    private static final String JVM_TOTAL = "jvm total";
    private static final String OTHER_JVM = "other JVM threads";

    /** The parts, in print order. */
    static final List<String> PARTS = List.of("streams", "sink", "api", "bench load and probes", "JIT compilers",
            "GC and VM thread", OTHER_JVM, "broker", "registry", "PostgreSQL", "other processes");
    private static final List<String> JVM_PARTS = PARTS.subList(0, PARTS.indexOf(OTHER_JVM) + 1);

    /** PostgreSQL's CPU is also split by what its processes do ({@link #POSTGRES_ROLES}), printed after its total. */
    static final String POSTGRES = "PostgreSQL";
    static final String SINK_BACKENDS = "sink's backends";
    static final String OTHER_CLIENTS = "other clients";
    static final String AUTOVACUUM = "autovacuum";
    static final String BACKGROUND = "background processes";
    static final String ENDED = "postmaster and ended processes";
    static final List<String> POSTGRES_ROLES = List.of(SINK_BACKENDS, OTHER_CLIENTS, AUTOVACUUM, BACKGROUND, ENDED);
    /** Separates a PostgreSQL process's role from {@link #POSTGRES} in a sample's key. */
    private static final String ROLE = "\u0001";

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final String streamsApplicationId;
    private final Supplier<Map<Long, String>> postgresRoles;

    /**
     * @param streamsApplicationId the streams service's application id: its threads' names start with it
     * @param postgresRoles PostgreSQL backends' pids to their role (one of {@link #POSTGRES_ROLES}),
     *                      asked at each sample; processes it does not name are told by their title
     */
    CpuSampler(String streamsApplicationId, Supplier<Map<Long, String>> postgresRoles) {
        this.streamsApplicationId = streamsApplicationId;
        this.postgresRoles = postgresRoles;
    }

    /** CPU nanoseconds so far, keyed by part and thread or process id. */
    Map<String, Long> sample() {
        Map<String, Long> cpu = new HashMap<>();
        if (threads.isThreadCpuTimeSupported()) {
            for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (info != null) {
                    long nanos = threads.getThreadCpuTime(info.getThreadId());
                    if (nanos > 0) {
                        cpu.put(threadPart(info.getThreadName(), streamsApplicationId) + "\u0000j" + info.getThreadId(), nanos);
                    }
                }
            }
        }
        nativeThreads(cpu);
        long total = statNanos(Path.of("/proc/self/stat"));
        if (total > 0) {
            cpu.put(JVM_TOTAL, total);
        }
        Map<Long, String> roles = postgresRoles.get();
        ProcessHandle.current().descendants().forEach(p -> {
            long nanos = statNanos(Path.of("/proc", Long.toString(p.pid()), "stat"));
            if (nanos > 0) {
                String commandLine = commandLine(p);
                String part = processPart(commandLine);
                if (part.equals(POSTGRES)) {
                    part = POSTGRES + ROLE + roles.getOrDefault(p.pid(), postgresRole(commandLine));
                }
                cpu.put(part + "\u0000p" + p.pid(), nanos);
            }
        });
        return cpu;
    }

    /**
     * The command line as the process shows it now: {@code /proc/<pid>/cmdline}, where PostgreSQL's
     * processes put their titles ({@link ProcessHandle.Info#commandLine} gives the executable's path
     * instead whenever it can read it).
     */
    private static String commandLine(ProcessHandle p) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
            String line = new String(raw, StandardCharsets.UTF_8).replace('\u0000', ' ').trim();
            if (!line.isEmpty()) {
                return line;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process ended: ask the JDK
        }
        return p.info().commandLine().orElse("");
    }

    /** The part a Java thread belongs to, by the names the services and Kafka clients give their threads. */
    static String threadPart(String name, String streamsApplicationId) {
        // Kafka clients name their threads "<kind> | <client id>"; the services' client ids start with their names
        if (name.startsWith(streamsApplicationId) || name.contains("| " + streamsApplicationId)) {
            return "streams";
        }
        if (name.startsWith("metering-sink") || name.contains("| metering-sink")) {
            return "sink";
        }
        if (name.startsWith("billing-api") || name.contains("| metering-billing-api")) {
            return "api";
        }
        if (name.equals("main") || name.startsWith("bench-") || name.contains("| metering-usage-meter")) {
            return "bench load and probes";
        }
        return OTHER_JVM;
    }

    /** The part a child process belongs to, by what its command line starts or runs. */
    static String processPart(String commandLine) {
        if (commandLine.contains("dev.metering.devstack.KafkaServerMain")) {
            return "broker";
        }
        if (commandLine.contains("-Dquarkus.")) {
            return "registry";
        }
        String first = commandLine.split(" ", 2)[0];
        // PostgreSQL's backends rename themselves "postgres: <user> <db> ..."
        if (first.equals("postgres:") || first.equals("postgres") || first.endsWith("/postgres")) {
            return POSTGRES;
        }
        return "other processes";
    }

    /**
     * What a PostgreSQL process does, by the title it gives itself. The postmaster's CPU is that of
     * its children that ended (autovacuum workers, closed connections), as it barely uses any itself.
     */
    static String postgresRole(String commandLine) {
        if (!commandLine.startsWith("postgres:")) {
            return ENDED; // the postmaster, whose own work is small beside that of its ended children
        }
        if (commandLine.contains("autovacuum")) {
            return AUTOVACUUM;
        }
        if (commandLine.matches("postgres: (walwriter|checkpointer|background writer|walsummarizer|logical replication launcher).*")) {
            return BACKGROUND;
        }
        return OTHER_CLIENTS;
    }

    /** JIT compiler, GC and RocksDB threads: not Java threads, so read from {@code /proc/self/task} (Linux). */
    private static void nativeThreads(Map<String, Long> cpu) {
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return;
        }
        List<Path> all;
        try (var dirs = Files.list(tasks)) {
            all = dirs.collect(Collectors.toList());
        } catch (IOException e) {
            return;
        }
        for (Path task : all) {
            String comm;
            try {
                comm = Files.readString(task.resolve("comm"), StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                continue; // the thread ended
            }
            String part = nativePart(comm);
            if (part != null) {
                long nanos = statNanos(task.resolve("stat"));
                if (nanos > 0) {
                    cpu.put(part + "\u0000t" + task.getFileName(), nanos);
                }
            }
        }
    }

    /** The part of a native thread by its (15-character) name, or null for threads measured otherwise. */
    static String nativePart(String comm) {
        if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
            return "JIT compilers";
        }
        if (comm.startsWith("GC Thread") || comm.startsWith("G1 ") || comm.equals("VM Thread")) {
            return "GC and VM thread";
        }
        if (comm.startsWith("rocksdb:")) {
            return "streams";
        }
        return null;
    }

    /** utime + stime of a {@code /proc/.../stat} file, in nanoseconds; 0 when unreadable. */
    static long statNanos(Path stat) {
        try {
            return parseStat(Files.readString(stat, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * Fields 14 and 15 (utime, stime), plus 16 and 17 (cutime, cstime: children that ended and were
     * waited for, such as PostgreSQL's autovacuum workers), counted after the command name's closing
     * parenthesis.
     */
    static long parseStat(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields[0] is field 3 (state): utime is field 14
        long ticks = 0;
        for (int i = 11; i <= 14; i++) {
            ticks += Math.max(0, Long.parseLong(fields[i]));
        }
        return ticks * NANOS_PER_TICK;
    }

    /** CPU nanoseconds by part between two samples, id by id. */
    static Map<String, Long> used(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> used = new LinkedHashMap<>();
        PARTS.forEach(p -> used.put(p, 0L));
        // matched by thread or process id alone: a PostgreSQL process's role may read differently in two samples
        Map<String, Long> beforeById = byId(before);
        Map<String, Long> afterById = byId(after);
        long jvmNamed = 0;
        for (Map.Entry<String, Long> e : after.entrySet()) {
            if (e.getKey().equals(JVM_TOTAL)) {
                continue;
            }
            int id = e.getKey().indexOf('\u0000');
            String part = e.getKey().substring(0, id);
            long d = Math.max(0, e.getValue() - beforeById.getOrDefault(e.getKey().substring(id), 0L));
            if (part.startsWith(POSTGRES + ROLE)) {
                used.merge(part, d, Long::sum);
                part = POSTGRES;
            }
            used.merge(part, d, Long::sum);
            if (JVM_PARTS.contains(part)) {
                jvmNamed += d;
            }
        }
        // a PostgreSQL process that ended in between reaches the postmaster's count of ended children
        // with its whole life: what it had used before the first sample is not part of this interval
        long endedEarlier = 0;
        for (Map.Entry<String, Long> e : before.entrySet()) {
            int id = e.getKey().indexOf('\u0000');
            if (id >= 0 && e.getKey().startsWith(POSTGRES) && !afterById.containsKey(e.getKey().substring(id))) {
                endedEarlier += e.getValue();
            }
        }
        String ended = POSTGRES + ROLE + ENDED;
        long cut = Math.min(endedEarlier, used.getOrDefault(ended, 0L));
        if (cut > 0) {
            used.merge(ended, -cut, Long::sum);
            used.merge(POSTGRES, -cut, Long::sum);
        }
        Long totalAfter = after.get(JVM_TOTAL);
        Long totalBefore = before.get(JVM_TOTAL);
        if (totalAfter != null && totalBefore != null) {
            // what the JVM used beyond the threads measured one by one: ended threads, VM threads
            long unnamed = (totalAfter - totalBefore) - jvmNamed;
            used.merge(OTHER_JVM, Math.max(0, unnamed), Long::sum);
        }
        return used;
    }

    /** A sample keyed by thread or process id alone (the part of each key from its {@code \u0000} on). */
    private static Map<String, Long> byId(Map<String, Long> sample) {
        Map<String, Long> byId = new HashMap<>();
        sample.forEach((key, nanos) -> {
            int id = key.indexOf('\u0000');
            if (id >= 0) {
                byId.put(key.substring(id), nanos);
            }
        });
        return byId;
    }

    /** "part N µs, ..." per event between two samples, largest first, and the cores used in all. */
    static String perEvent(Map<String, Long> before, Map<String, Long> after, long events, double seconds) {
        Map<String, Long> used = used(before, after);
        Map<String, Long> roles = new LinkedHashMap<>();
        used.keySet().removeIf(part -> {
            if (part.startsWith(POSTGRES + ROLE)) {
                roles.put(part.substring(POSTGRES.length() + 1), used.get(part));
                return true;
            }
            return false;
        });
        long total = used.values().stream().mapToLong(Long::longValue).sum();
        StringBuilder out = new StringBuilder();
        used.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .filter(e -> e.getValue() > 0)
                .forEach(e -> {
                    out.append(out.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
                            .append(events == 0 ? 0 : e.getValue() / 1000 / events).append(" µs");
                    if (e.getKey().equals(POSTGRES) && !roles.isEmpty()) {
                        out.append(roles.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                                .filter(r -> r.getValue() > 0)
                                .map(r -> r.getKey() + " " + (events == 0 ? 0 : r.getValue() / 1000 / events) + " µs")
                                .collect(Collectors.joining(", ", " (", ")")));
                    }
                });
        return String.format(Locale.ROOT, "%s; in all %d µs an event, %.2f cores", out,
                events == 0 ? 0 : total / 1000 / events, seconds <= 0 ? 0 : total / 1e9 / seconds);
    }
}
