package dev.metering.api.alert;

import java.sql.Connection;
import java.util.concurrent.Semaphore;
import org.jooq.ConnectionProvider;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;

/**
 * At most {@code permits} threads at once hold connections of the shared pool through this
 * provider (a thread may hold several: a transaction and a read inside it), so background alert
 * work never takes more than that from the pool the checks use.
 */
final class BoundedConnections implements ConnectionProvider {

    private final ConnectionProvider delegate;
    private final Semaphore permits;
    private final ThreadLocal<int[]> held = ThreadLocal.withInitial(() -> new int[1]);

    private BoundedConnections(ConnectionProvider delegate, int permits) {
        this.delegate = delegate;
        this.permits = new Semaphore(permits, true);
    }

    /** {@code dsl} with its connections bounded to {@code permits} threads at a time. */
    static DSLContext bound(DSLContext dsl, int permits) {
        return dsl.configuration().derive(new BoundedConnections(dsl.configuration().connectionProvider(), permits)).dsl();
    }

    @Override
    public Connection acquire() throws DataAccessException {
        int[] n = held.get();
        if (n[0] == 0) {
            try {
                permits.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DataAccessException("interrupted waiting for a connection", e);
            }
        }
        n[0]++;
        try {
            return delegate.acquire();
        } catch (RuntimeException e) {
            released(n);
            throw e;
        }
    }

    @Override
    public void release(Connection connection) throws DataAccessException {
        try {
            delegate.release(connection);
        } finally {
            released(held.get());
        }
    }

    private void released(int[] n) {
        if (--n[0] == 0) {
            permits.release();
        }
    }
}
