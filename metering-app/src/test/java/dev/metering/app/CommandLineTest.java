package dev.metering.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
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
