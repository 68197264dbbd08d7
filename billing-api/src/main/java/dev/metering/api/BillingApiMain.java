package dev.metering.api;

import dev.metering.api.config.BillingApiConfig;
import dev.metering.events.config.ConfigException;
import java.time.Clock;

/** {@code java ... dev.metering.api.BillingApiMain}: configuration from METERING_* variables. */
public final class BillingApiMain {

    private BillingApiMain() {
    }

    public static void main(String[] args) {
        BillingApiConfig config;
        try {
            config = BillingApiConfig.fromEnvironment();
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        BillingApi api = BillingApi.start(config, Clock.systemUTC());
        Runtime.getRuntime().addShutdownHook(new Thread(api::close, "billing-api-shutdown"));
    }
}
