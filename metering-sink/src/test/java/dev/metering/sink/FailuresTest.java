package dev.metering.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.metering.events.registry.SchemaRegistryException;
import dev.metering.events.serde.UnknownSchemaException;
import java.net.ConnectException;
import java.sql.SQLException;
import org.apache.kafka.common.errors.SerializationException;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.Test;

class FailuresTest {

    @Test
    void shouldRetryWhenTheServerIsGoneOrRestarting() {
        assertThat(Failures.isTransient(wrapped(new SQLException("refused", "08001")))).isTrue();
        assertThat(Failures.isTransient(wrapped(new SQLException("I/O error", "08006")))).isTrue();
        assertThat(Failures.isTransient(wrapped(new SQLException("admin shutdown", "57P01")))).isTrue();
        assertThat(Failures.isTransient(wrapped(new SQLException("starting up", "57P03")))).isTrue();
        assertThat(Failures.isTransient(wrapped(new SQLException("deadlock", "40P01")))).isTrue();
        assertThat(Failures.isTransient(new RuntimeException(new ConnectException("Connection refused")))).isTrue();
    }

    @Test
    void shouldNotRetryForeverWhenTheDataIsWrong() {
        assertThat(Failures.isTransient(wrapped(new SQLException("numeric field overflow", "22003")))).isFalse();
        assertThat(Failures.isTransient(wrapped(new SQLException("not null violation", "23502")))).isFalse();
    }

    @Test
    void shouldWaitForAnUnavailableRegistryButDeadLetterWhatItRefuses() {
        assertThat(Failures.isRegistryUnavailable(new SerializationException("cannot fetch schema id 3",
                new SchemaRegistryException(503, 50301, "unavailable", "GET /schemas/ids/3")))).isTrue();
        assertThat(Failures.isRegistryUnavailable(new SerializationException("cannot fetch schema id 3",
                new SchemaRegistryException(429, 429, "slow down", "GET /schemas/ids/3")))).isTrue();
        assertThat(Failures.isRegistryUnavailable(new SerializationException("cannot fetch schema id 3",
                new SchemaRegistryException("GET /schemas/ids/3 failed", new ConnectException("refused"))))).isTrue();
        assertThat(Failures.isRegistryUnavailable(new SchemaRegistryException(403, 40301, "forbidden",
                "GET /schemas/ids/3"))).isFalse();
        assertThat(Failures.isRegistryUnavailable(SchemaRegistryException.unusableAnswer(200,
                "GET /schemas/ids/3 returned a \"JSON\" schema, not AVRO", null))).isFalse();
        assertThat(Failures.isRegistryUnavailable(new UnknownSchemaException(3,
                new SchemaRegistryException(404, 40403, "Schema not found", "GET /schemas/ids/3")))).isFalse();
    }

    @Test
    void shouldDescribeWithTheDatabaseMessageAndState() {
        assertThat(Failures.describe(wrapped(new SQLException("numeric field overflow", "22003"))))
                .isEqualTo("numeric field overflow (SQLState 22003)");
    }

    private static RuntimeException wrapped(SQLException e) {
        return new DataAccessException("SQL [insert ...]; " + e.getMessage(), e);
    }
}
