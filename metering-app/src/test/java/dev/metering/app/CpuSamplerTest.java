package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuSamplerTest {

    @Test
    void shouldReadOwnAndWaitedForChildrensTicksAfterACommandNameWithSpacesAndParentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
        String stat = "4242 (C2 Compi(ler)) S 1 4242 4242 0 -1 4194560 10 0 0 0 250 17 30 3 20 0 1 0 5 0";
        assertThat(CpuSampler.parseStat(stat)).isEqualTo(300 * 10_000_000L);
    }

    @Test
    void shouldAttributeThreadsToTheServiceThatNamedThem() {
        String app = "metering-streams";
        assertThat(CpuSampler.threadPart("metering-streams-1b2c-StreamThread-1", app)).isEqualTo("streams");
        assertThat(CpuSampler.threadPart("kafka-producer-network-thread | metering-streams-1b2c-StreamThread-2-producer", app))
                .isEqualTo("streams");
        assertThat(CpuSampler.threadPart("bench-streams-StreamThread-1", "bench-streams")).isEqualTo("streams");
        assertThat(CpuSampler.threadPart("metering-sink-writer", app)).isEqualTo("sink");
        assertThat(CpuSampler.threadPart("kafka-coordinator-heartbeat-thread | metering-sink", app)).isEqualTo("sink");
        assertThat(CpuSampler.threadPart("billing-api-http-12", app)).isEqualTo("api");
        assertThat(CpuSampler.threadPart("kafka-producer-network-thread | metering-billing-api-ingest", app)).isEqualTo("api");
        assertThat(CpuSampler.threadPart("kafka-producer-network-thread | metering-usage-meter", app))
                .isEqualTo("bench load and probes");
        assertThat(CpuSampler.threadPart("HttpClient-8-Worker-3", app)).isEqualTo("other JVM threads");
        assertThat(CpuSampler.nativePart("C2 CompilerThre")).isEqualTo("JIT compilers");
        assertThat(CpuSampler.nativePart("G1 Conc#0")).isEqualTo("GC and VM thread");
        assertThat(CpuSampler.nativePart("rocksdb:low")).isEqualTo("streams");
        assertThat(CpuSampler.nativePart("metering-sink")).isNull(); // a Java thread: measured by name instead
    }

    @Test
    void shouldTellChildProcessesByWhatTheyRunNotByTheirClassPath() {
        assertThat(CpuSampler.processPart("/tmp/pg/bin/postgres -D /tmp/x -p 5432")).isEqualTo("PostgreSQL");
        assertThat(CpuSampler.processPart("postgres: metering metering 127.0.0.1(35858) INSERT")).isEqualTo("PostgreSQL");
        assertThat(CpuSampler.processPart("/usr/bin/java -cp /m2/postgresql-42.7.4.jar:/m2/kafka.jar "
                + "dev.metering.devstack.ParentWatchdog dev.metering.devstack.KafkaServerMain server.properties"))
                .isEqualTo("broker");
        assertThat(CpuSampler.processPart("/usr/bin/java -Dquarkus.http.port=1 -jar /tmp/postgres-free/app.jar"))
                .isEqualTo("registry");
    }

    @Test
    void shouldSubtractIdByIdAndGiveTheJvmsUnnamedCpuToOtherThreads() {
        Map<String, Long> before = Map.of("streams\u0000j1", 1_000_000_000L, "sink\u0000j2", 300_000_000L,
                "sink\u0000j3", 200_000_000L, "jvm total", 10_000_000_000L);
        // thread 3 ended (its CPU is in the JVM's total only); thread 4 started in between
        Map<String, Long> after = Map.of("streams\u0000j1", 3_000_000_000L, "sink\u0000j2", 500_000_000L,
                "sink\u0000j4", 300_000_000L, "PostgreSQL\u0000p9", 1_500_000_000L, "jvm total", 13_000_000_000L);
        Map<String, Long> used = CpuSampler.used(before, after);
        assertThat(used.get("streams")).isEqualTo(2_000_000_000L);
        assertThat(used.get("sink")).isEqualTo(500_000_000L);
        assertThat(used.get("other JVM threads")).isEqualTo(500_000_000L);
        assertThat(used.get("PostgreSQL")).isEqualTo(1_500_000_000L);
        assertThat(CpuSampler.perEvent(before, after, 100_000, 2.25))
                .isEqualTo("streams 20 µs, PostgreSQL 15 µs, sink 5 µs, other JVM threads 5 µs; in all 45 µs an event, 2.00 cores");
    }

    @Test
    void shouldTellWhatAPostgresProcessDoesByItsTitle() {
        assertThat(CpuSampler.postgresRole("postgres: metering metering 127.0.0.1(35858) INSERT")).isEqualTo("other clients");
        assertThat(CpuSampler.postgresRole("postgres: autovacuum worker metering")).isEqualTo("autovacuum");
        assertThat(CpuSampler.postgresRole("postgres: walwriter")).isEqualTo("background processes");
        assertThat(CpuSampler.postgresRole("postgres: checkpointer")).isEqualTo("background processes");
        assertThat(CpuSampler.postgresRole("/tmp/pg/bin/postgres -D /tmp/x -p 5432")).isEqualTo("postmaster and ended processes");
    }

    @Test
    void shouldPrintPostgresByRoleAfterItsTotal() {
        Map<String, Long> before = Map.of("PostgreSQL\u0001sink's backends\u0000p7", 1_000_000_000L);
        Map<String, Long> after = Map.of("PostgreSQL\u0001sink's backends\u0000p7", 2_000_000_000L,
                "PostgreSQL\u0001autovacuum\u0000p8", 500_000_000L, "streams\u0000j1", 300_000_000L);
        assertThat(CpuSampler.used(before, after).get("PostgreSQL")).isEqualTo(1_500_000_000L);
        assertThat(CpuSampler.perEvent(before, after, 100_000, 1)).isEqualTo(
                "PostgreSQL 15 µs (sink's backends 10 µs, autovacuum 5 µs), streams 3 µs; in all 18 µs an event, 1.80 cores");
    }

    @Test
    void shouldMatchAPostgresProcessByItsPidWhateverItsRoleReadInEachSample() {
        // pg_stat_activity could not be read in the first sample: the backend was told by its title
        Map<String, Long> before = Map.of("PostgreSQL\u0001other clients\u0000p7", 9_000_000_000L);
        Map<String, Long> after = Map.of("PostgreSQL\u0001sink's backends\u0000p7", 9_400_000_000L);
        Map<String, Long> used = CpuSampler.used(before, after);
        assertThat(used.get("PostgreSQL")).isEqualTo(400_000_000L);
        assertThat(used.get("PostgreSQL\u0001sink's backends")).isEqualTo(400_000_000L);
    }

    @Test
    void shouldCountOnlyTheIntervalOfAPostgresProcessThatEndedInIt() {
        // worker p9 had used 2 s when sampled, ended after 0.5 s more; the postmaster p1 then counts all 2.5 s
        Map<String, Long> before = Map.of("PostgreSQL\u0001postmaster and ended processes\u0000p1", 10_000_000_000L,
                "PostgreSQL\u0001autovacuum\u0000p9", 2_000_000_000L);
        Map<String, Long> after = Map.of("PostgreSQL\u0001postmaster and ended processes\u0000p1", 12_500_000_000L);
        Map<String, Long> used = CpuSampler.used(before, after);
        assertThat(used.get("PostgreSQL")).isEqualTo(500_000_000L);
        assertThat(used.get("PostgreSQL\u0001postmaster and ended processes")).isEqualTo(500_000_000L);
    }
}
