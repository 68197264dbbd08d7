package dev.metering.sink;

import dev.metering.events.registry.SchemaRegistryException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;

/**
 * Sorts failures into transient (retry the whole batch later, commit nothing) and permanent (the
 * data can never be written as it is: isolate the record and dead-letter it).
 */
final class Failures {

    /**
     * SQLStates that mean "the server is going away or busy", not "this data is wrong":
     * admin/crash shutdown and cannot-connect-now (57P01-57P03), serialization failure and deadlock
     * (40001, 40P01), too many connections and out of resources (53xxx).
     */
    private static final Set<String> TRANSIENT_STATES = Set.of("57P01", "57P02", "57P03", "57P05", "40001", "40P01",
            "53000", "53100", "53200", "53300", "53400");

    private Failures() {
    }

    static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TransientException
                    || t instanceof ConnectException
                    || t instanceof SocketException
                    || t instanceof SocketTimeoutException
                    || t instanceof SQLTransientException
                    || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql && isTransientState(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /** Class 08 (connection exception) and the states in {@link #TRANSIENT_STATES}. */
    static boolean isTransientState(String sqlState) {
        return sqlState != null && (sqlState.startsWith("08") || TRANSIENT_STATES.contains(sqlState));
    }

    /**
     * The registry could not be reached or answered 5xx or 429: ask again later. Not: it refused
     * the id for good (any other 4xx) or gave a schema the client will not use; those are data,
     * as in the streams' validate stage.
     */
    static boolean isRegistryUnavailable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof dev.metering.events.serde.UnknownSchemaException
                    || t instanceof dev.metering.events.serde.MalformedPayloadException) {
                return false;
            }
            if (t instanceof SchemaRegistryException registry) {
                return registry.isTransient();
            }
            if (t instanceof ConnectException || t instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** The SQLState of the first SQLException in the chain, or null. */
    static String sqlState(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                return sql.getSQLState();
            }
        }
        return null;
    }

    /** The innermost message, which is usually the database's own words. */
    static String describe(Throwable failure) {
        String state = sqlState(failure);
        Throwable root = failure;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException) {
                root = t;
                break;
            }
            root = t;
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return state == null ? message : message + " (SQLState " + state + ")";
    }
}
