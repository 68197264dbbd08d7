package dev.metering.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The operating-system user PostgreSQL runs as. PostgreSQL refuses to run as root, so when this JVM
 * runs as root (CI containers), its processes run as the unprivileged user {@value #PG_USER}
 * (created with {@code useradd} when missing; {@code nobody} if that is impossible) through
 * {@code setpriv}, and its data directory is owned by that user. Otherwise it runs as ourselves.
 */
record OsUser(String name, int uid, int gid, boolean switched) {

    static final String PG_USER = "metering-pg";

    static synchronized OsUser forPostgres() {
        if (currentUid() != 0) {
            return new OsUser(System.getProperty("user.name"), -1, -1, false);
        }
        if (!exists(PG_USER)) {
            run(List.of("useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", PG_USER));
        }
        String name = exists(PG_USER) ? PG_USER : "nobody";
        return new OsUser(name, Integer.parseInt(run(List.of("id", "-u", name)).trim()),
                Integer.parseInt(run(List.of("id", "-g", name)).trim()), true);
    }

    /** {@code command} prefixed so that it runs as this user. */
    List<String> command(List<String> command) {
        if (!switched) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** Gives this user the directory tree (no-op when not switched). */
    void own(Path dir) {
        if (switched) {
            String result = run(List.of("chown", "-R", uid + ":" + gid, dir.toString()));
            if (!result.isBlank()) {
                throw new DevstackException("chown of " + dir + " failed: " + result);
            }
        }
    }

    /**
     * Where PostgreSQL keeps the data asked for at {@code requested}: {@code requested} itself when
     * this user can reach it. Otherwise (we are root in a private directory: a checkout under
     * /root, or in {@code mktemp -d}) a directory under {@code base}, which every user can pass
     * through, named after {@code requested} so that a restart finds it again; with {@code link}, a
     * symbolic link at {@code requested} points to it, so the data still shows where it was asked
     * for. An existing real directory at {@code requested} is kept (and fails clearly on start).
     */
    Path reachableDataDir(Path requested, Path base, boolean link) {
        Path wanted = requested.toAbsolutePath();
        if (!switched || canReach(wanted)) {
            return wanted;
        }
        try {
            if (Files.isSymbolicLink(wanted)) {
                return wanted.toRealPath();
            }
            if (Files.exists(wanted)) {
                return wanted;
            }
            String id = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(wanted.toString().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
            Path home = Files.createDirectories(base.resolve("postgres-" + id));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path shadow = home.resolve("pgdata");
            if (link) {
                Files.createDirectories(wanted.getParent());
                Files.createSymbolicLink(wanted, shadow);
            }
            return shadow;
        } catch (IOException e) {
            throw new DevstackException("cannot place the PostgreSQL data for " + wanted + " under " + base, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private boolean canReach(Path dir) {
        for (Path p = dir.getParent(); p != null; p = p.getParent()) {
            try {
                if (Files.exists(p) && !Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    /** Fails clearly when this user cannot reach {@code dir} because an ancestor is closed to others (e.g. /root). */
    void requireReachable(Path dir) {
        if (!switched) {
            return;
        }
        for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            try {
                if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new DevstackException("PostgreSQL refuses to run as root, so it runs as the user '" + name
                            + "', which cannot reach " + dir + " because " + p + " is not accessible to other users;"
                            + " use a data directory outside it or run 'chmod o+x " + p + "'");
                }
            } catch (IOException e) {
                throw new DevstackException("cannot read the permissions of " + p, e);
            }
        }
    }

    private static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name")) ? 0 : -1;
        }
    }

    private static boolean exists(String user) {
        try {
            Process p = new ProcessBuilder("id", "-u", user).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs a short command; returns its output (stdout and stderr). */
    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(60, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "cannot run " + command.get(0) + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevstackException("interrupted while running " + command);
        }
    }
}
