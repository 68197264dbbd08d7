package dev.metering.events.config;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * PostgreSQL connection settings, the same for every service and command: {@code METERING_DB_URL}
 * (required, {@code jdbc:postgresql:}), {@code METERING_DB_USER}, {@code METERING_DB_PASSWORD}.
 *
 * @param url      the JDBC URL
 * @param user     null: the driver's default (or the URL's)
 * @param password null: none
 */
public record DbSettings(String url, String user, String password) {

    public static final String URL = "METERING_DB_URL";
    public static final String USER = "METERING_DB_USER";
    public static final String PASSWORD = "METERING_DB_PASSWORD";

    /**
     * Reads the three variables. Problems are recorded in {@code source} (reported with every other
     * one by {@link ConfigSource#throwIfInvalid()}); {@code url} is then null or invalid.
     */
    public static DbSettings from(ConfigSource source) {
        String url = source.requiredString(URL);
        if (url != null && !url.startsWith("jdbc:postgresql:")) {
            source.problem(URL, "must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/db), got '" + url + "'");
        }
        return new DbSettings(url, source.string(USER, null), source.string(PASSWORD, null));
    }

    /** A new connection with these settings. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    @Override
    public String toString() {
        return "DbSettings[url=" + url + ", user=" + user + ", password=" + (password == null ? "unset" : "***") + "]";
    }
}
