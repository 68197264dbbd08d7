package dev.metering.api.store;

import java.net.ConnectException;
import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps checks from waiting on a database that is unavailable: open after a connection failure,
 * while open the check path does not call the database at all (it answers from what this instance
 * last read); only the background refresh keeps trying, and its first success closes it. So only
 * the checks in flight when the database goes away wait for the pool's connection timeout.
 */
public final class DatabaseBreaker {

    private static final Logger log = LoggerFactory.getLogger(DatabaseBreaker.class);

    private volatile boolean open;

    public boolean isOpen() {
        return open;
    }

    /** Opens when {@code e} says the database cannot be reached; other failures are not its business. */
    public boolean tripIfUnavailable(RuntimeException e) {
        if (!isUnavailable(e)) {
            return false;
        }
        if (!open) {
            open = true;
            log.warn("database unavailable: checks answer from the usage this instance last read (stale: true) "
                    + "until it answers again: {}", e.toString());
        }
        return true;
    }

    public void succeeded() {
        if (open) {
            open = false;
            log.info("database available again: checks read it again");
        }
    }

    /** A connection failure anywhere in the cause chain: pool timeout, SQLState class 08 or 57P0x, a socket error. */
    public static boolean isUnavailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLTransientConnectionException || t instanceof ConnectException
                    || t instanceof SocketException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P0"))) {
                return true;
            }
        }
        return false;
    }
}
