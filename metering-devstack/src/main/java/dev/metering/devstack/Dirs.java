package dev.metering.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** Where the servers keep data and logs when the caller does not say. */
final class Dirs {

    private Dirs() {
    }

    /** {@code target/} of the module the JVM runs in (the working directory of surefire and failsafe). */
    static Path target() {
        return Path.of(System.getProperty("user.dir")).resolve("target").toAbsolutePath();
    }

    /** {@code target/devstack-logs}: where test servers write their logs. */
    static Path defaultLogDir() {
        return target().resolve("devstack-logs");
    }

    /** A new, empty directory under {@code target/devstack-data}, deleted again by the server's {@code close()}. */
    static Path newTempDataDir(String prefix) {
        try {
            Path parent = Files.createDirectories(target().resolve("devstack-data"));
            Path dir = Files.createTempDirectory(parent, prefix);
            // other users must be able to pass through: PostgreSQL runs as an unprivileged user when we are root
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data directory under " + target(), e);
        }
    }

    static Path createDirectories(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    private static void deleteIfExists(Path path) throws IOException {
        try {
            Files.deleteIfExists(path);
        } catch (NoSuchFileException e) {
            // removed concurrently
        }
    }

    /** The {@code java} executable of the running JVM, used to start child JVMs. */
    static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
