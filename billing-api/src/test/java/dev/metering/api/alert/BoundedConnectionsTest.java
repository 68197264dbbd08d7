package dev.metering.api.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jooq.ConnectionProvider;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

class BoundedConnectionsTest {

    /** Hands out placeholder connections and counts those out. */
    private static final class CountingProvider implements ConnectionProvider {
        final AtomicInteger out = new AtomicInteger();

        @Override
        public Connection acquire() {
            out.incrementAndGet();
            return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                    (p, m, a) -> null);
        }

        @Override
        public void release(Connection connection) {
            out.decrementAndGet();
        }
    }

    @Test
    void shouldLetOneThreadAtATimeHoldConnectionsAndLetItNestAcquisitions() throws Exception {
        CountingProvider pool = new CountingProvider();
        ConnectionProvider bounded = BoundedConnections.bound(DSL.using(pool, SQLDialect.POSTGRES), 1)
                .configuration().connectionProvider();

        Connection outer = bounded.acquire();
        Connection inner = bounded.acquire();
        assertThat(pool.out.get()).isEqualTo(2);

        AtomicReference<Connection> got = new AtomicReference<>();
        Thread other = new Thread(() -> got.set(bounded.acquire()));
        other.start();
        bounded.release(inner);
        // the first thread still holds one: the other parks until it releases its last
        await().atMost(Duration.ofSeconds(10)).until(() -> other.getState() == Thread.State.WAITING);
        assertThat(got.get()).isNull();
        assertThat(pool.out.get()).isEqualTo(1);

        bounded.release(outer);
        other.join(Duration.ofSeconds(10).toMillis());
        assertThat(got.get()).isNotNull();
        assertThat(pool.out.get()).isEqualTo(1);
    }
}
