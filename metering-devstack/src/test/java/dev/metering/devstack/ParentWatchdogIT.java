package dev.metering.devstack;

import static org.assertj.core.api.Assertions.assertThat;

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
}
