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
            "Configuration (default in brackets; all of it in docs/contract.md, Configuration): "
                + "METERING_DB_URL (required), METERING_DB_USER, METERING_DB_PASSWORD, METERING_DB_POOL_SIZE (16), "
                + "METERING_API_PORT (8080), METERING_ADMIN_TOKEN (none), METERING_ENFORCEMENT (enforce; initial value, "
                + "then PUT /api/v1/enforcement), METERING_ENFORCEMENT_CANARY_PERCENT (0), METERING_MAX_STALENESS (60s), "
                + "METERING_STALE_POLICY (fail-open), METERING_EVENT_LOG (off; on: the event routes answer).",
            "Rate limits, per instance (0 turns a rate off): METERING_API_RATE_LIMIT_RATE (100 requests/s per key), "
                + "METERING_API_RATE_LIMIT_BURST (200), METERING_API_RATE_LIMIT_CHECK_RATE (5000 ingest, check and "
                + "reservation calls/s per key), METERING_API_RATE_LIMIT_CHECK_BURST (10000), "
                + "METERING_API_RATE_LIMIT_FAILED_AUTH_PER_MINUTE (20 per client address), "
                + "METERING_RESERVATION_LOCK_FREE_FACTOR (32).",
            "For HTTP ingest and PUT /api/v1/prices (else they answer 503): METERING_KAFKA_BOOTSTRAP, "
                + "METERING_SCHEMA_REGISTRY_URL, METERING_SCHEMA_REGISTRY_AUTH, METERING_TOPIC_PREFIX (metering.), "
                + "METERING_INGEST_MAX_BLOCK (2s), METERING_INGEST_DELIVERY_TIMEOUT (10s), METERING_GRACE (48h), "
                + "METERING_KAFKA_<PROPERTY>."})
final class ApiCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        BillingApiConfig config = BillingApiConfig.from(ConfigSource.fromEnvironment());
        Ports.requireFree(config.port(), "billing API, METERING_API_PORT");
        BillingApi api = BillingApi.start(config, Clock.systemUTC());
        return ServiceRunner.runUntilStopped("billing-api", api, () -> true);
    }
}
