package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchPipelineTest {

    @Test
    void shouldSpreadAnyNumberOfEventsEvenlyOverTheThousandOrgs() {
        // --events 400000 failed: i * 7919 overflowed an int and gave negative org numbers
        for (int i : new int[] {0, 271_188, 271_189, 400_000, 10_000_000, Integer.MAX_VALUE}) {
            assertThat(BenchPipeline.benchOrg(i)).as("org of event %d", i).isBetween(1, 1000);
        }
        Map<Integer, Integer> perOrg = new HashMap<>();
        for (int i = 0; i < 1_000_000; i++) {
            perOrg.merge(BenchPipeline.benchOrg(i), 1, Integer::sum);
        }
        assertThat(perOrg).hasSize(1000);
        assertThat(perOrg.values()).containsOnly(1000);
    }
}
