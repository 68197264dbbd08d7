package dev.metering.app;

import dev.metering.events.config.ConfigSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** The database settings every command shares: {@code METERING_DB_URL}, {@code _USER}, {@code _PASSWORD}. */
record Db(String url, String user, String password) {

    static Db from(ConfigSource source) {
        String url = source.requiredString("METERING_DB_URL");
        if (url != null && !url.startsWith("jdbc:postgresql:")) {
            source.problem("METERING_DB_URL", "must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/db), got '"
                    + url + "'");
        }
        String user = source.string("METERING_DB_USER", null);
        String password = source.string("METERING_DB_PASSWORD", null);
        source.throwIfInvalid();
        return new Db(url, user, password);
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }
}
