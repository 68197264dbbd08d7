package dev.metering.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Apicurio Registry distribution from Maven Central
 * ({@code io.apicurio:apicurio-registry-app:<version>:zip:all}), unpacked once into a cache directory.
 *
 * <p>The zip is taken from the local Maven repository, or downloaded from Maven Central (verified
 * against its {@code .sha1}) into the local repository so later runs find it. Downloads and
 * unpacking go to temporary names renamed into place, so concurrent JVMs never use a partial copy.
 */
final class ApicurioDistribution {

    private static final Logger log = LoggerFactory.getLogger(ApicurioDistribution.class);
    private static final String CENTRAL = "https://repo1.maven.org/maven2/";
    private static final String ARTIFACT = "io/apicurio/apicurio-registry-app/";

    private ApicurioDistribution() {
    }

    /** The runner jar of the unpacked distribution, unpacking (and downloading) it first if needed. */
    static synchronized Path runnerJar(String version, Path cacheDir) {
        Path home = cacheDir.resolve("apicurio-registry-" + version);
        Path runner = home.resolve("apicurio-registry-app-" + version + "-runner.jar");
        if (Files.isRegularFile(runner)) {
            return runner;
        }
        try {
            Files.createDirectories(cacheDir);
            Path zip = zip(version);
            Path staging = Files.createTempDirectory(cacheDir, "apicurio-staging-");
            try {
                unzip(zip, staging);
                if (!Files.isRegularFile(staging.resolve(runner.getFileName()))) {
                    throw new DevstackException(zip + " does not contain " + runner.getFileName());
                }
                try {
                    Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                    // another JVM unpacked it first
                }
            } finally {
                Dirs.deleteRecursively(staging);
            }
            return runner;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack Apicurio Registry " + version + " into " + cacheDir, e);
        }
    }

    /** The distribution zip in the local Maven repository, downloaded there first when missing. */
    static Path zip(String version) throws IOException {
        String file = "apicurio-registry-app-" + version + "-all.zip";
        Path local = localRepository().resolve(ARTIFACT + version + "/" + file);
        if (Files.isRegularFile(local)) {
            return local;
        }
        String url = CENTRAL + ARTIFACT + version + "/" + file;
        log.info("downloading {} (about 140 MB) into {}", url, local);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        String expectedSha1 = get(http, url + ".sha1", HttpResponse.BodyHandlers.ofString()).trim().split("\\s+")[0];
        Files.createDirectories(local.getParent());
        Path partial = Files.createTempFile(local.getParent(), file, ".part");
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            try (InputStream in = new DigestInputStream(get(http, url, HttpResponse.BodyHandlers.ofInputStream()), sha1);
                 OutputStream out = Files.newOutputStream(partial)) {
                in.transferTo(out);
            }
            String actual = HexFormat.of().formatHex(sha1.digest());
            if (!actual.equalsIgnoreCase(expectedSha1)) {
                throw new IOException("checksum mismatch for " + url + ": expected SHA-1 " + expectedSha1 + ", got " + actual);
            }
            Files.writeString(partial.resolveSibling(file + ".sha1"), expectedSha1, StandardCharsets.US_ASCII);
            Files.move(partial, local, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return local;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    private static <T> T get(HttpClient http, String url, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            HttpResponse<T> response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10)).build(), handler);
            if (response.statusCode() != 200) {
                throw new IOException("GET " + url + " answered HTTP " + response.statusCode());
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading " + url, e);
        }
    }

    static Path localRepository() {
        String configured = System.getProperty("maven.repo.local");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    private static void unzip(Path zip, Path into) throws IOException {
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            ZipEntry entry;
            while ((entry = in.getNextEntry()) != null) {
                Path path = into.resolve(entry.getName()).normalize();
                if (!path.startsWith(into)) {
                    throw new IOException("zip entry outside the target directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                } else {
                    Files.createDirectories(path.getParent());
                    Files.copy(in, path, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
