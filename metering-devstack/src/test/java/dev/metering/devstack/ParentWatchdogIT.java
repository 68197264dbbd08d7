package dev.metering.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ParentWatchdogIT {

    @Test
    void shouldEndChildJvmWhenParentClosesItsStdin() throws Exception {
        // the kernel closes the same pipe when the parent dies, including on kill -9
        Path log = Dirs.defaultLogDir().resolve("watchdog-test.log");
        ChildProcess child = ChildProcess.start("watchdog test", List.of(Dirs.javaExecutable(), "-Xmx32m",
                "-cp", System.getProperty("java.class.path"), ParentWatchdog.class.getName(), SleepForeverMain.class.getName()),
                Map.of(), log);
        ProcessHandle handle = ProcessHandle.of(child.pid()).orElseThrow();
        assertThat(handle.isAlive()).isTrue();

        long started = System.nanoTime();
        child.stop(Duration.ofSeconds(15));

        assertThat(handle.onExit().get(1, TimeUnit.SECONDS).isAlive()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
        assertThat(child.tail(1)).isEqualTo("devstack: parent closed stdin, shutting down");
    }

    @Test
    void shouldRunChildInItsOwnSessionSoATerminalCtrlCReachesOnlyTheParent() throws Exception {
        // Ctrl-C signals the terminal's foreground process group; a child in its own session is
        // out of it, and is stopped by the parent after the parent's own services
        Path log = Dirs.defaultLogDir().resolve("session-test.log");
        ChildProcess child = ChildProcess.start("session test", List.of(Dirs.javaExecutable(), "-Xmx32m",
                "-cp", System.getProperty("java.class.path"), ParentWatchdog.class.getName(), SleepForeverMain.class.getName()),
                Map.of(), log);
        try {
            assertThat(sessionId(child.pid())).isEqualTo(child.pid());
            assertThat(sessionId(ProcessHandle.current().pid())).isNotEqualTo(child.pid());
        } finally {
            child.stop(Duration.ofSeconds(15));
        }
    }

    /** Field 6 of /proc/PID/stat (after the parenthesised command name). */
    private static long sessionId(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[3]);
    }
}
