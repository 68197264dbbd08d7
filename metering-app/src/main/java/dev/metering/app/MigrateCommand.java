package dev.metering.app;

import dev.metering.db.Migrations;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.DbSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Applies the Flyway migrations (schema metering) to METERING_DB_URL; a no-op when up to date.",
            "Configuration: METERING_DB_URL (required), METERING_DB_USER, METERING_DB_PASSWORD."})
final class MigrateCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        ConfigSource source = DevAddresses.source();
        DbSettings db = DbSettings.from(source);
        source.throwIfInvalid();
        int applied = Migrations.migrate(db.url(), db.user(), db.password());
        System.out.println("migrated " + db.url() + ": " + applied + " script(s) applied");
        return 0;
    }
}
