package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuSamplerTest {

    @Test
    void shouldReadUserAndSystemTicksAfterACommandNameWithSpacesAndParentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        String stat = "4242 (C2 Compi(ler)) S 1 4242 4242 0 -1 4194560 10 0 0 0 250 17 0 0 20 0 1 0 5 0";
        assertThat(CpuSampler.parseStat(stat)).isEqualTo(267 * 10_000_000L);
    }

    @Test
    void shouldAttributeThreadsToTheServiceThatNamedThem() {
        assertThat(CpuSampler.threadPart("metering-streams-1b2c-StreamThread-1")).isEqualTo("streams");
        assertThat(CpuSampler.threadPart("kafka-producer-network-thread | metering-streams-1b2c-StreamThread-2-producer"))
                .isEqualTo("streams");
        assertThat(CpuSampler.threadPart("metering-sink-writer")).isEqualTo("sink");
        assertThat(CpuSampler.threadPart("kafka-coordinator-heartbeat-thread | metering-sink")).isEqualTo("sink");
        assertThat(CpuSampler.threadPart("billing-api-http-12")).isEqualTo("api");
        assertThat(CpuSampler.threadPart("kafka-producer-network-thread | metering-billing-api-ingest")).isEqualTo("api");
        assertThat(CpuSampler.threadPart("kafka-producer-network-thread | metering-usage-meter"))
                .isEqualTo("bench load and probes");
        assertThat(CpuSampler.threadPart("HttpClient-8-Worker-3")).isEqualTo("bench load and probes");
        assertThat(CpuSampler.threadPart("Finalizer")).isEqualTo("other JVM threads");
        assertThat(CpuSampler.processPart("/usr/lib/postgresql/bin/postgres -D /tmp/x")).isEqualTo("PostgreSQL");
        assertThat(CpuSampler.processPart("java -cp kafka_2.13.jar kafka.Kafka server.properties")).isEqualTo("broker");
        assertThat(CpuSampler.processPart("java -Dquarkus.http.port=1 -jar app.jar")).isEqualTo("registry");
    }

    @Test
    void shouldPrintEachPartsCpuPerEventLargestFirstAndTheCoresUsed() {
        Map<String, Long> before = Map.of("streams", 1_000_000_000L, "sink", 0L);
        Map<String, Long> after = Map.of("streams", 3_000_000_000L, "sink", 500_000_000L, "PostgreSQL", 1_500_000_000L);
        assertThat(CpuSampler.perEvent(before, after, 100_000, 2.0))
                .isEqualTo("streams 20 µs, PostgreSQL 15 µs, sink 5 µs; in all 40 µs an event, 2.00 cores");
    }
}
