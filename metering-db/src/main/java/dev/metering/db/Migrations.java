package dev.metering.db;

import java.util.Objects;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies the Flyway migrations in {@code classpath:db/migration} (schema {@code metering},
 * history table {@code metering.flyway_schema_history}).
 *
 * <p>Idempotent: running it on an up-to-date database applies nothing and changes nothing. It
 * refuses a database whose applied scripts no longer match their checksums (a landed migration
 * was edited), rather than guessing.
 */
public final class Migrations {

    /** The schema every table of the pipeline lives in (contract: docs/contract.md, PostgreSQL). */
    public static final String SCHEMA = "metering";

    private Migrations() {
    }

    /** Migrates the database behind {@code dataSource}; returns how many scripts were applied. */
    public static int migrate(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        return run(Flyway.configure().dataSource(dataSource));
    }

    /** Migrates the database at {@code jdbcUrl}; returns how many scripts were applied. */
    public static int migrate(String jdbcUrl, String user, String password) {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        return run(Flyway.configure().dataSource(jdbcUrl, user, password));
    }

    private static int run(org.flywaydb.core.api.configuration.FluentConfiguration configuration) {
        Flyway flyway = configuration
                .schemas(SCHEMA)
                .defaultSchema(SCHEMA)
                .createSchemas(true)
                .locations("classpath:db/migration")
                .validateMigrationNaming(true)
                .cleanDisabled(true)
                .load();
        MigrateResult result = flyway.migrate();
        return result.migrationsExecuted;
    }
}
