package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.config.KafkaSettings;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.DbSettings;
import dev.metering.events.config.KafkaClientProperties;
import dev.metering.sink.SinkConfig;
import dev.metering.streams.StreamsAppConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * docker-compose.yml against the application: every command our image runs is a real command
 * line of {@link Main}, every {@code METERING_*} variable is one that service reads (or a Kafka
 * pass-through), and each service's configuration loads from the file's values without a problem.
 * (The file's syntax is validated by {@code docker-compose config} in {@code .ci/run}.)
 */
class ComposeFileTest {

    private static final Path COMPOSE = Path.of("..", "docker-compose.yml");
    private static final String IMAGE = "metering:dev";
    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{([A-Z0-9_]+)(?::?([-?])([^}]*))?}");

    /** The classes whose code reads each command's variables. */
    private static final Map<String, List<Class<?>>> READERS = Map.of(
            "streams", List.of(StreamsAppConfig.class, Topics.class, KafkaClientProperties.class),
            "sink", List.of(SinkConfig.class, Topics.class, DbSettings.class, KafkaClientProperties.class),
            "api", List.of(BillingApiConfig.class, KafkaSettings.class, Topics.class, DbSettings.class,
                    KafkaClientProperties.class),
            "migrate", List.of(DbSettings.class),
            "prices", List.of(PricesCommand.Apply.class, Topics.class, DbSettings.class, KafkaClientProperties.class));

    @Test
    void shouldRunOnlyCommandsTheApplicationHas() throws IOException {
        Map<String, Map<String, Object>> services = ourServices();
        assertThat(services.keySet()).containsExactlyInAnyOrder("migrate", "prices", "streams", "sink", "api");
        for (var e : services.entrySet()) {
            List<String> command = command(e.getValue());
            assertThatCode(() -> Main.commandLine().parseArgs(command.toArray(String[]::new)))
                    .as("service %s: command %s", e.getKey(), command).doesNotThrowAnyException();
            CommandLine.ParseResult parsed = Main.commandLine().parseArgs(command.toArray(String[]::new));
            assertThat(parsed.hasSubcommand()).as("service %s names a command", e.getKey()).isTrue();
        }
    }

    @Test
    void shouldBuildTheImageFromTheServicesJarWithoutTheDevInfrastructure() throws IOException {
        String dockerfile = Files.readString(Path.of("..", "Dockerfile"), StandardCharsets.UTF_8);

        assertThat(dockerfile).contains("COPY metering-app/target/metering-services.jar ")
                .doesNotContain("target/metering.jar")
                .contains("sh build-runtime.sh ");
        assertThat(Files.readString(Path.of("src", "image", "build-runtime.sh"), StandardCharsets.UTF_8)).contains("jlink\" --add-modules ");
        // the final stage starts from scratch, so its PATH must name BusyBox's directories for the healthchecks' wget
        String last = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
        assertThat(last).startsWith("\nFROM scratch\n").contains("COPY --from=os / /")
                .containsPattern("(?m)^ENV PATH=/opt/java/bin:.*:/usr/bin:.*/bin$");
        // every file the build copies from the context is let in by .dockerignore (which starts with *)
        List<String> ignore = Files.readAllLines(Path.of("..", ".dockerignore"), StandardCharsets.UTF_8);
        Matcher copy = Pattern.compile("(?m)^COPY (?!--)(\\S+) ").matcher(dockerfile);
        int copies = 0;
        while (copy.find()) {
            String source = copy.group(1);
            assertThat(ignore).as(".dockerignore lets %s in", source)
                    .anyMatch(line -> line.startsWith("!") && (source.equals(line.substring(1))
                            || line.endsWith("/") && source.startsWith(line.substring(1))));
            copies++;
        }
        assertThat(copies).isEqualTo(3);
        String pom = Files.readString(Path.of("pom.xml"), StandardCharsets.UTF_8);
        String services = pom.substring(pom.indexOf("<id>services-jar</id>"));
        assertThat(services.substring(0, services.indexOf("</execution>")))
                .contains("<finalName>metering-services</finalName>")
                .contains("<exclude>dev.metering:metering-devstack</exclude>")
                .contains("<exclude>org.apache.kafka:kafka_2.13</exclude>")
                .contains("<exclude>io.zonky.test.postgres:*</exclude>");
    }

    @Test
    void shouldSetOnlyVariablesTheServicesRead() throws IOException {
        for (var e : ourServices().entrySet()) {
            String command = command(e.getValue()).get(0);
            List<Class<?>> readers = READERS.get(command);
            assertThat(readers).as("known readers for command %s", command).isNotNull();
            for (String name : environment(e.getValue()).keySet()) {
                if (!name.startsWith("METERING_")) {
                    continue;
                }
                boolean passThrough = name.startsWith(KafkaClientProperties.KAFKA_PREFIX)
                        && readers.contains(KafkaClientProperties.class);
                assertThat(passThrough || readBy(name, readers))
                        .as("service %s sets %s, which %s does not read", e.getKey(), name, readers).isTrue();
            }
        }
    }

    @Test
    void shouldLoadEveryServiceConfigurationFromTheComposeValues() throws IOException {
        Map<String, Map<String, Object>> services = ourServices();
        assertThatCode(() -> StreamsAppConfig.from(ConfigSource.of(environment(services.get("streams")))))
                .doesNotThrowAnyException();
        assertThatCode(() -> SinkConfig.from(ConfigSource.of(environment(services.get("sink")))))
                .doesNotThrowAnyException();
        assertThatCode(() -> BillingApiConfig.from(ConfigSource.of(environment(services.get("api")))))
                .doesNotThrowAnyException();
        ConfigSource migrate = ConfigSource.of(environment(services.get("migrate")));
        DbSettings.from(migrate);
        assertThatCode(migrate::throwIfInvalid).doesNotThrowAnyException();
        StreamsAppConfig streams = StreamsAppConfig.from(ConfigSource.of(environment(services.get("streams"))));
        assertThat(streams.createTopics()).as("the topics init service creates the topics").isFalse();
        assertThat(streams.kafkaProperties()).containsEntry("bootstrap.servers", "kafka:19092");
    }

    @Test
    void shouldPublishPortsOnLoopbackOnlyAndGateStartOnHealth() throws IOException {
        Map<String, Object> compose = compose();
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
        List<String> ports = new ArrayList<>();
        for (var e : services.entrySet()) {
            Object p = e.getValue().get("ports");
            if (p instanceof List<?> list) {
                list.forEach(x -> ports.add(e.getKey() + " " + x));
            }
            boolean oneShot = "no".equals(String.valueOf(e.getValue().get("restart")));
            assertThat(oneShot || e.getValue().containsKey("healthcheck"))
                    .as("long-running service %s has a healthcheck", e.getKey()).isTrue();
        }
        assertThat(ports).containsExactlyInAnyOrder("kafka 127.0.0.1:9092:9092", "schema-registry 127.0.0.1:8081:8081",
                "postgres 127.0.0.1:5433:5432", "api 127.0.0.1:8080:8080");
    }

    private static boolean readBy(String name, List<Class<?>> classes) {
        byte[] needle = name.getBytes(StandardCharsets.UTF_8);
        for (Class<?> c : classes) {
            String resource = c.getName().replace('.', '/') + ".class";
            try (InputStream in = c.getClassLoader().getResourceAsStream(resource)) {
                if (in != null && contains(in.readAllBytes(), needle)) {
                    return true;
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return false;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            // the constant must end here (not be a prefix of a longer name)
            int end = i + needle.length;
            if (end < haystack.length && (Character.isLetterOrDigit(haystack[end]) || haystack[end] == '_')) {
                continue;
            }
            return true;
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> ourServices() throws IOException {
        Map<String, Map<String, Object>> all = (Map<String, Map<String, Object>>) compose().get("services");
        Map<String, Map<String, Object>> ours = new LinkedHashMap<>();
        all.forEach((name, service) -> {
            if (IMAGE.equals(service.get("image"))) {
                ours.put(name, service);
            }
        });
        return ours;
    }

    private static Map<String, Object> compose() throws IOException {
        return new Yaml().load(Files.readString(COMPOSE, StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    private static List<String> command(Map<String, Object> service) {
        return ((List<Object>) service.get("command")).stream().map(String::valueOf).toList();
    }

    /** The service's environment with compose interpolation applied as with an empty shell environment. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> environment(Map<String, Object> service) {
        Map<String, String> env = new LinkedHashMap<>();
        Object raw = service.get("environment");
        if (raw instanceof Map<?, ?> map) {
            ((Map<String, Object>) map).forEach((k, v) -> {
                if (!"<<".equals(k)) {
                    env.put(k, interpolate(String.valueOf(v)));
                }
            });
        }
        return env;
    }

    private static String interpolate(String value) {
        Matcher m = INTERPOLATION.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            // ${X:-default} -> default; ${X:?message} -> a value the operator must provide
            String replacement = "?".equals(m.group(2)) ? "operator-provided-secret-0123456789"
                    : m.group(3) == null ? "" : m.group(3);
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }
}
