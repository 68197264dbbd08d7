package dev.metering.devstack;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server process started by the devstack: output appended to a log file, stdin kept open as the
 * child's life line (see {@link ParentWatchdog}), stopped by closing stdin, killed with its whole
 * process tree when it does not stop in time. A JVM shutdown hook stops every child still running.
 *
 * <p>Each child runs in a session of its own (through {@code setsid} where it exists), so a
 * terminal's Ctrl-C, which signals the whole foreground process group, reaches only our JVM: it
 * then stops its own services (whose last commits still need the broker and the database) before
 * the servers, instead of racing them.
 */
final class ChildProcess {

    private static final Logger log = LoggerFactory.getLogger(ChildProcess.class);
    private static final Set<ChildProcess> RUNNING = ConcurrentHashMap.newKeySet();
    private static final Duration HOOK_GRACE = Duration.ofSeconds(20);
    /** util-linux's setsid: execs in place (same pid) when the caller is not a process group leader. */
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcess::stopAllAtExit, "devstack-shutdown"));
    }

    private final String name;
    private final Process process;
    private final Path logFile;

    private ChildProcess(String name, Process process, Path logFile) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
    }

    static ChildProcess start(String name, List<String> command, Map<String, String> environment, Path logFile) {
        return start(name, command, environment, logFile, null);
    }

    static ChildProcess start(String name, List<String> command, Map<String, String> environment, Path logFile, Path workDir) {
        try {
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            Files.writeString(logFile, "---- devstack: starting " + name + ": " + String.join(" ", command) + System.lineSeparator(),
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder builder = new ProcessBuilder(inOwnSession(command))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.PIPE);
            builder.environment().putAll(environment);
            if (workDir != null) {
                builder.directory(workDir.toFile());
            }
            ChildProcess child = new ChildProcess(name, builder.start(), logFile);
            RUNNING.add(child);
            log.info("started {} (pid {}), log: {}", name, child.process.pid(), logFile.toAbsolutePath());
            return child;
        } catch (IOException e) {
            throw new DevstackException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    private static List<String> inOwnSession(List<String> command) {
        if (!Files.isExecutable(SETSID)) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(command.size() + 1);
        wrapped.add(SETSID.toString());
        wrapped.addAll(command);
        return wrapped;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    Path logFile() {
        return logFile;
    }

    /**
     * Waits until {@code ready} returns true. Fails with the log's last lines when the process exits
     * or the deadline passes; the process is stopped in both cases.
     */
    void awaitReady(Duration timeout, BooleanSupplier ready) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                RUNNING.remove(this);
                closeStdin();
                throw new DevstackException(name + " exited with code " + process.exitValue()
                        + " during start-up; last lines of " + logFile.toAbsolutePath() + ":\n" + tail(40));
            }
            boolean isReady;
            try {
                isReady = ready.getAsBoolean();
            } catch (RuntimeException e) {
                stop(Duration.ofSeconds(5)); // the probe found a problem waiting will not fix
                throw e;
            }
            if (isReady) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                String tail = tail(40);
                stop(Duration.ofSeconds(5));
                throw new DevstackException(name + " was not ready within " + timeout.toSeconds() + " s; last lines of "
                        + logFile.toAbsolutePath() + ":\n" + tail);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
    }

    /** Asks the process to stop (stdin closed), waits up to {@code grace}, then kills its process tree. */
    void stop(Duration grace) {
        closeStdin();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("{} did not stop within {} s, killing it", name, grace.toSeconds());
                killTree();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            killTree();
        } finally {
            RUNNING.remove(this);
        }
    }

    private void closeStdin() {
        try {
            OutputStream stdin = process.getOutputStream();
            stdin.close();
        } catch (IOException e) {
            // already closed
        }
    }

    private void killTree() {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last {@code lines} lines of the log file (reads at most its last 64 KiB). */
    String tail(int lines) {
        try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
            long length = file.length();
            long from = Math.max(0, length - 65_536);
            byte[] bytes = new byte[(int) (length - from)];
            file.seek(from);
            file.readFully(bytes);
            String[] all = new String(bytes, StandardCharsets.UTF_8).split("\\R");
            return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void stopAllAtExit() {
        List<ChildProcess> children = new ArrayList<>(RUNNING);
        children.forEach(ChildProcess::closeStdin);
        long deadline = System.nanoTime() + HOOK_GRACE.toNanos();
        for (ChildProcess child : children) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                if (!child.process.waitFor(left, TimeUnit.NANOSECONDS)) {
                    child.killTree();
                }
            } catch (InterruptedException e) {
                child.killTree();
            }
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }
}
