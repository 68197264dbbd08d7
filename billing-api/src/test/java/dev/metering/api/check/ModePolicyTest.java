package dev.metering.api.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModePolicyTest {

    private static Set<String> enforcedOrgs(ModePolicy policy) {
        Set<String> enforced = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String org = "org-" + i;
            if (policy.modeFor(org, null) == EnforcementMode.ENFORCE) {
                enforced.add(org);
            }
        }
        return enforced;
    }

    @Test
    void shouldEnforceForRoughlyTenPercentOfOrgsAndAlwaysTheSameOnes() {
        ModePolicy canary = new ModePolicy(EnforcementMode.SHADOW, 10);
        Set<String> first = enforcedOrgs(canary);
        assertThat(first.size()).isBetween(900, 1100);
        assertThat(enforcedOrgs(new ModePolicy(EnforcementMode.SHADOW, 10))).isEqualTo(first);
    }

    @Test
    void shouldOnlyAddOrgsWhenTheCanaryGrows() {
        assertThat(enforcedOrgs(new ModePolicy(EnforcementMode.OFF, 50)))
                .containsAll(enforcedOrgs(new ModePolicy(EnforcementMode.OFF, 10)));
    }

    @Test
    void shouldPreferTheOrgOverrideOverCanaryAndGlobalMode() {
        ModePolicy all = new ModePolicy(EnforcementMode.ENFORCE, 0);
        assertThat(all.modeFor("acme", EnforcementMode.OFF)).isEqualTo(EnforcementMode.OFF);
        assertThat(new ModePolicy(EnforcementMode.OFF, 100).modeFor("acme", null)).isEqualTo(EnforcementMode.ENFORCE);
        assertThat(new ModePolicy(EnforcementMode.OFF, 0).modeFor("acme", null)).isEqualTo(EnforcementMode.OFF);
    }

    @Test
    void shouldHashTheOrgIdStably() {
        // first 4 bytes of SHA-256("acme") are 0x822b33ad = 2183869357; mod 100 = 57, on every machine
        assertThat(ModePolicy.bucket("acme")).isEqualTo(57);
    }
}
