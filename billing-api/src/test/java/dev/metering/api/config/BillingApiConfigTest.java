package dev.metering.api.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.StalePolicy;
import dev.metering.api.ratelimit.RateLimitSettings;
import dev.metering.events.config.ConfigSource;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BillingApiConfigTest {

    @Test
    void shouldReadEveryVariableWithDefaults() {
        BillingApiConfig c = BillingApiConfig.from(ConfigSource.of(Map.of(
                "METERING_DB_URL", "jdbc:postgresql://db:5432/metering",
                "METERING_ENFORCEMENT", "shadow",
                "METERING_ENFORCEMENT_CANARY_PERCENT", "10",
                "METERING_STALE_POLICY", "fail-closed",
                "METERING_MAX_STALENESS", "90s")));
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.enforcement()).isEqualTo(EnforcementMode.SHADOW);
        assertThat(c.canaryPercent()).isEqualTo(10);
        assertThat(c.stalePolicy()).isEqualTo(StalePolicy.FAIL_CLOSED);
        assertThat(c.maxStaleness()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.adminToken()).isNull();
        assertThat(c.eventLog()).isFalse();
        assertThat(c.toString()).doesNotContain("password");
    }

    @Test
    void shouldReadTheEventLogSettingStreamsAndSinkRead() {
        BillingApiConfig on = BillingApiConfig.from(ConfigSource.of(Map.of(
                "METERING_DB_URL", "jdbc:postgresql://db:5432/metering", "METERING_EVENT_LOG", "on")));
        assertThat(on.eventLog()).isTrue();
        Throwable t = catchThrowable(() -> BillingApiConfig.from(ConfigSource.of(Map.of(
                "METERING_DB_URL", "jdbc:postgresql://db:5432/metering", "METERING_EVENT_LOG", "sometimes"))));
        assertThat(t).hasMessageContaining("METERING_EVENT_LOG");
    }

    @Test
    void shouldReadTheRateLimitsWithTheirDefaults() {
        BillingApiConfig defaults = BillingApiConfig.from(ConfigSource.of(Map.of(
                "METERING_DB_URL", "jdbc:postgresql://db:5432/metering")));
        assertThat(defaults.rateLimits()).isEqualTo(new RateLimitSettings(100, 200, 5_000, 10_000, 20));
        BillingApiConfig set = BillingApiConfig.from(ConfigSource.of(Map.of(
                "METERING_DB_URL", "jdbc:postgresql://db:5432/metering",
                "METERING_API_RATE_LIMIT_RATE", "0",
                "METERING_API_RATE_LIMIT_BURST", "7",
                "METERING_API_RATE_LIMIT_CHECK_RATE", "20000",
                "METERING_API_RATE_LIMIT_CHECK_BURST", "40000",
                "METERING_API_RATE_LIMIT_FAILED_AUTH_PER_MINUTE", "60")));
        assertThat(set.rateLimits()).isEqualTo(new RateLimitSettings(0, 7, 20_000, 40_000, 60));
        Throwable t = catchThrowable(() -> BillingApiConfig.from(ConfigSource.of(Map.of(
                "METERING_DB_URL", "jdbc:postgresql://db:5432/metering",
                "METERING_API_RATE_LIMIT_BURST", "0",
                "METERING_API_RATE_LIMIT_CHECK_RATE", "-1"))));
        assertThat(t).hasMessageContaining("METERING_API_RATE_LIMIT_BURST")
                .hasMessageContaining("METERING_API_RATE_LIMIT_CHECK_RATE");
    }

    @Test
    void shouldReportEveryProblemAtOnce() {
        Throwable t = catchThrowable(() -> BillingApiConfig.from(ConfigSource.of(Map.of(
                "METERING_ENFORCEMENT", "maybe",
                "METERING_ENFORCEMENT_CANARY_PERCENT", "150",
                "METERING_ADMIN_TOKEN", "short"))));
        assertThat(t).hasMessageContaining("METERING_DB_URL")
                .hasMessageContaining("METERING_ENFORCEMENT")
                .hasMessageContaining("METERING_ENFORCEMENT_CANARY_PERCENT")
                .hasMessageContaining("METERING_ADMIN_TOKEN");
    }
}
