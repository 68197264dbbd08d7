package dev.metering.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class PortsTest {

    @Test
    void shouldNameBusyPortAndServerWhenKafkaPortIsTaken() throws IOException {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = busy.getLocalPort();
            assertThatThrownBy(() -> KafkaBroker.start(KafkaBroker.Options.defaults().withPort(port)))
                    .isInstanceOf(PortInUseException.class)
                    .hasMessage("port " + port + " is already in use (Kafka)");
        }
    }

    @Test
    void shouldNameBusyPortAndServerWhenPostgresPortIsTaken() throws IOException {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = busy.getLocalPort();
            assertThatThrownBy(() -> PostgresServer.start(PostgresServer.Options.defaults().withPort(port)))
                    .isInstanceOf(PortInUseException.class)
                    .hasMessage("port " + port + " is already in use (PostgreSQL)");
        }
    }

    @Test
    void shouldNameBusyPortAndServerWhenRegistryPortIsTaken() throws IOException {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = busy.getLocalPort();
            assertThatThrownBy(() -> SchemaRegistryServer.start(SchemaRegistryServer.Options.defaults().withPort(port)))
                    .isInstanceOf(PortInUseException.class)
                    .hasMessage("port " + port + " is already in use (schema registry)");
        }
    }

    @Test
    void shouldPickFreePortForPortZero() {
        int first = Ports.resolve(0, "Kafka");
        assertThat(first).isBetween(1, 65535);
        assertThat(Ports.isFree(first)).isTrue();
    }

    @Test
    void shouldRejectPortOutsideValidRange() {
        assertThatThrownBy(() -> Ports.resolve(70000, "Kafka"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port 70000 is not a valid port (Kafka)");
    }
}
