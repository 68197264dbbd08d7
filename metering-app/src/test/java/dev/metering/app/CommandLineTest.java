package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommandLineTest {

    @Test
    void shouldOfferEveryCommandTheIssueNames() {
        assertThat(Main.commandLine().getSubcommands().keySet()).containsExactlyInAnyOrder("dev", "streams", "sink", "api",
                "migrate", "plans", "prices", "subscriptions", "credits", "audit", "loadgen", "bench", "help");
        assertThat(Main.commandLine().getSubcommands().get("plans").getSubcommands()).containsOnlyKeys("apply");
        assertThat(Main.commandLine().getSubcommands().get("prices").getSubcommands()).containsOnlyKeys("apply");
        assertThat(Main.commandLine().getSubcommands().get("subscriptions").getSubcommands()).containsOnlyKeys("import");
        assertThat(Main.commandLine().getSubcommands().get("credits").getSubcommands()).containsOnlyKeys("import");
    }

    @Test
    void shouldListEveryVariableAServiceReadsInItsHelp() throws Exception {
        Map<String, List<String>> sources = Map.of(
                "streams", List.of("../metering-streams/src/main/java/dev/metering/streams/StreamsAppConfig.java"),
                "sink", List.of("../metering-sink/src/main/java/dev/metering/sink/SinkConfig.java"),
                "api", List.of("../billing-api/src/main/java/dev/metering/api/config/BillingApiConfig.java",
                        "../billing-api/src/main/java/dev/metering/api/config/KafkaSettings.java"));
        Pattern variable = Pattern.compile("\"(METERING_[A-Z0-9_]*[A-Z0-9])\"");
        for (var entry : sources.entrySet()) {
            StringWriter out = new StringWriter();
            CommandLine cli = Main.commandLine();
            cli.setOut(new PrintWriter(out));
            cli.execute(entry.getKey(), "--help");
            String help = out.toString().replaceAll("\\s+", " ");
            Set<String> read = new TreeSet<>();
            for (String file : entry.getValue()) {
                Matcher m = variable.matcher(Files.readString(Path.of(file)));
                while (m.find()) {
                    read.add(m.group(1));
                }
            }
            read.remove("METERING_STREAMS_EMIT_INTERVAL"); // refused with an explanation, not a setting
            assertThat(read).as("variables %s reads", entry.getKey()).isNotEmpty()
                    .allSatisfy(name -> assertThat(help).as("help of %s", entry.getKey()).containsPattern(name + "\\b"));
            assertThat(help).doesNotContain("_*");
        }
    }

    @Test
    void shouldPrintHelpForEveryCommandAndExitZero() {
        List<List<String>> commands = new ArrayList<>();
        commands.add(List.of());
        collect(Main.commandLine(), new ArrayList<>(), commands);
        for (List<String> path : commands) {
            if (path.equals(List.of("help"))) {
                continue;
            }
            CommandLine cli = Main.commandLine();
            StringWriter out = new StringWriter();
            cli.setOut(new PrintWriter(out));
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            int exit = cli.execute(args.toArray(String[]::new));
            assertThat(exit).as("exit of %s", args).isZero();
            assertThat(out.toString()).as("help of %s", args).startsWith("Usage: metering" + (path.isEmpty() ? "" : " "
                    + String.join(" ", path)));
        }
        assertThat(commands).as("metering, its 13 commands and plans apply, prices apply, subscriptions import, "
                + "credits import").hasSize(18);
    }

    @Test
    void shouldRefuseUnknownOptionsWithUsageExitCode() {
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(new StringWriter()));
        assertThat(cli.execute("loadgen", "--rate-per-second", "5")).isEqualTo(2);
    }

    @Test
    void shouldRefuseABadAuditRangeOrGrainWithUsageExitCodeBeforeTouchingTheDatabase() {
        for (String[] args : List.of(
                new String[] {"audit", "--org", "a", "--from", "yesterday", "--to", "2026-12-02T00:00:00Z"},
                new String[] {"audit", "--org", "a", "--from", "2026-12-02T00:00:00Z", "--to", "2026-12-01T00:00:00Z"},
                new String[] {"audit", "--org", "a", "--from", "2024-01-01T00:00:00Z", "--to", "2026-12-01T00:00:00Z"},
                new String[] {"audit", "--org", "a", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-02T00:00:00Z",
                    "--grain", "week"},
                new String[] {"audit", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-02T00:00:00Z"})) {
            CommandLine cli = Main.commandLine();
            StringWriter err = new StringWriter();
            cli.setErr(new PrintWriter(err));
            assertThat(cli.execute(args)).as(String.join(" ", args)).isEqualTo(2);
        }
    }

    @Test
    void shouldParseDurationsAsInTheConfiguration() {
        assertThat(new DurationConverter().convert("250ms")).hasMillis(250);
        assertThat(new DurationConverter().convert("5m")).hasSeconds(300);
    }

    private static void collect(CommandLine cli, List<String> prefix, List<List<String>> out) {
        cli.getSubcommands().forEach((name, sub) -> {
            List<String> path = new ArrayList<>(prefix);
            path.add(name);
            out.add(path);
            collect(sub, path, out);
        });
    }
}
