package dev.metering.api.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.metering.api.config.BillingApiConfig;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;

/** The connection pool and the jOOQ context over it. */
public final class Database implements AutoCloseable {

    private final HikariDataSource dataSource;
    private final DSLContext dsl;

    private Database(HikariDataSource dataSource) {
        this.dataSource = dataSource;
        this.dsl = DSL.using(dataSource, SQLDialect.POSTGRES, new Settings()
                .withExecuteLogging(false)
                .withRenderFormatted(false));
    }

    public static Database open(BillingApiConfig config) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(config.dbUrl());
        if (config.dbUser() != null) {
            hc.setUsername(config.dbUser());
        }
        if (config.dbPassword() != null) {
            hc.setPassword(config.dbPassword());
        }
        hc.setMaximumPoolSize(config.dbPoolSize());
        hc.setMinimumIdle(Math.min(4, config.dbPoolSize()));
        hc.setPoolName("billing-api");
        hc.setConnectionTimeout(2_000);
        // do not fail start-up when the database is briefly unreachable: /ready reports it
        hc.setInitializationFailTimeout(-1);
        return new Database(new HikariDataSource(hc));
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public int poolSize() {
        return dataSource.getMaximumPoolSize();
    }

    public DSLContext dsl() {
        return dsl;
    }

    public boolean isReachable() {
        try {
            dsl.selectOne().fetch();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
