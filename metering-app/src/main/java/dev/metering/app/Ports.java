package dev.metering.app;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Port checks before anything starts; free of the devstack classes, which metering-services.jar leaves out. */
final class Ports {

    private Ports() {
    }

    static void requireFree(int port, String what) {
        if (port == 0) {
            return;
        }
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("0.0.0.0"))) {
            s.setReuseAddress(true);
        } catch (IOException e) {
            throw new UserException("port " + port + " is already in use (" + what + "); stop what uses it or pick "
                    + "another port (see --help)");
        }
    }
}
