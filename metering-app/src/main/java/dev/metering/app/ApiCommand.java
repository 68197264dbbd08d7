package dev.metering.app;

import dev.metering.api.BillingApi;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.events.config.ConfigSource;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "api", mixinStandardHelpOptions = true,
        description = {"Runs the billing API (limits, checks, plans, subscriptions, credits, API keys) on "
                + "METERING_API_PORT (8080).",
            "Configuration: METERING_DB_URL (required), METERING_DB_USER, METERING_DB_PASSWORD, METERING_API_PORT, "
                + "METERING_ADMIN_TOKEN, METERING_ENFORCEMENT, METERING_ENFORCEMENT_CANARY_PERCENT, "
                + "METERING_MAX_STALENESS, METERING_STALE_POLICY, METERING_DB_POOL_SIZE."})
final class ApiCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        BillingApiConfig config = BillingApiConfig.from(ConfigSource.fromEnvironment());
        DevStack.requireFree(config.port(), "billing API, METERING_API_PORT");
        BillingApi api = BillingApi.start(config, Clock.systemUTC());
        return ServiceRunner.runUntilStopped("billing-api", api, () -> true);
    }
}
