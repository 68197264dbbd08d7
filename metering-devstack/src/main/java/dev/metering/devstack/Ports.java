package dev.metering.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Port selection for the local servers: all of them listen on 127.0.0.1 only. */
final class Ports {

    static final String HOST = "127.0.0.1";

    private Ports() {
    }

    /** A port that was free a moment ago; another process may still take it before the server binds. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on " + HOST, e);
        }
    }

    /** Returns {@code port}, or a free port when it is 0; fails naming the port and its user when it is busy. */
    static int resolve(int port, String what) {
        if (port == 0) {
            return freePort();
        }
        requireFree(port, what);
        return port;
    }

    static void requireFree(int port, String what) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a valid port (" + what + ")");
        }
        if (!isFree(port)) {
            throw new PortInUseException(port, what);
        }
    }

    /** True when something accepts TCP connections on the port. */
    static boolean accepts(int port) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getByName(HOST), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
