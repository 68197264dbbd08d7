package dev.metering.devstack;

/** A fixed port that a devstack server needs is taken by another process. */
public final class PortInUseException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final int port;

    public PortInUseException(int port, String what) {
        super("port " + port + " is already in use (" + what + ")");
        this.port = port;
    }

    public int port() {
        return port;
    }
}
