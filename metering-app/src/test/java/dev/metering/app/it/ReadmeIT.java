package dev.metering.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The README as a new user follows it: its quickstart's {@code dev --demo} command and every
 * command and curl of its short tour run as written (in a directory holding the jar and
 * {@code examples/} where the README expects them), on free ports instead of 9092, 8081, 5433
 * and 8080. The documented output (the sample dev output block, the {@code answers `...`} of the
 * ingest call, the output lines quoted after a block) must match what they print, so the
 * README and the behaviour cannot drift apart; so must the roll-out walkthrough of
 * docs/operations.md the README points to.
 */
class ReadmeIT {

    private static final Path README = Path.of("..", "README.md");
    private static final Path OPERATIONS = Path.of("..", "docs", "operations.md");
    private static final Pattern BLOCK = Pattern.compile("```(\\w*)\\n(.*?)```\\n", Pattern.DOTALL);
    /** A quoted output line in prose: {@code `word ...: rest`}. */
    private static final Pattern QUOTED_OUTPUT = Pattern.compile("`([a-z][a-z ()-]*[a-z)]: [^`]+)`");

    private Process dev;

    @AfterEach
    void stopDev() throws InterruptedException {
        if (dev != null && dev.isAlive()) {
            dev.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldBehaveAsTheReadmesQuickstartAndTourSay() throws Exception {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        String quickstart = section(readme, "## Quickstart", "## A short tour");
        String tour = section(readme, "## A short tour", "## Modules");
        Path work = readerDirectory();
        Ports ports = Ports.free();

        // 1. the quickstart: the command after the build, and the sample output it prints
        List<Block> quickstartBlocks = blocks(quickstart);
        String build = quickstartBlocks.get(0).text().strip();
        assertThat(build).startsWith("mvn ").contains(" && ");
        String devCommand = build.substring(build.indexOf(" && ") + 4);
        assertThat(devCommand).isEqualTo("java -jar metering-app/target/metering.jar dev --demo");
        Path devLog = work.resolve("dev.log");
        dev = bash(devCommand + ports.flags(), work).redirectOutput(devLog.toFile()).start();
        List<Pattern> documented = quickstartBlocks.get(1).text().lines()
                .map(line -> outputLine(line, ports)).filter(p -> p != null).toList();
        assertThat(documented).hasSizeGreaterThan(15);
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            assertThat(dev.isAlive()).as("dev is running; see %s", devLog).isTrue();
            return unmatched(documented, Files.readString(devLog)).isEmpty();
        });
        long started = System.nanoTime();

        // 2. the tour: every block run as written (the jar's commands find dev mode's addresses in .metering-dev/)
        List<Block> tourBlocks = blocks(tour);
        assertThat(tourBlocks).hasSize(4);
        List<String> outputs = new ArrayList<>();
        StringBuilder variables = new StringBuilder();
        for (Block block : tourBlocks) {
            String script = block.text().replace("127.0.0.1:8080", "127.0.0.1:" + ports.api);
            outputs.add(runBlock(variables + script, work));
            // a reader's shell keeps the variables an earlier block set
            // (plain assignments only: not a continued line, nor one that calls the API again)
            script.lines().filter(l -> l.matches("[A-Z_]+=.*") && !l.endsWith("\\") && !l.contains("curl "))
                    .forEach(l -> variables.append(l).append('\n'));
        }
        assertThat(Files.readString(work.resolve(".metering-dev/admin-token")).strip()).startsWith("dev-");

        // the ingest call answers as documented, "..." standing for the generated id
        Matcher answers = Pattern.compile("answers `([^`]+)`").matcher(tourBlocks.get(0).after());
        assertThat(answers.find()).as("the tour documents the ingest answer").isTrue();
        assertThat(outputs.get(0).strip()).matches(Pattern.quote(answers.group(1)).replace("...", "\\E[0-9a-f-]+\\Q"));

        // check, limits and report answer JSON with the fields the tour names
        // curl prints each answer without a newline: split between one JSON document and the next
        String[] reads = outputs.get(1).strip().split("(?<=})\\s*(?=\\{)");
        assertThat(reads).hasSize(3).allSatisfy(line -> assertThat(line).startsWith("{").doesNotContain("\"status\":4"));
        Matcher fields = Pattern.compile("`(\\w+)`").matcher(tourBlocks.get(0).after()
                .substring(tourBlocks.get(0).after().indexOf("Ask before serving")));
        List<String> named = new ArrayList<>();
        while (fields.find()) {
            named.add(fields.group(1));
        }
        assertThat(named).contains("allowed", "used", "remaining", "resetsAt");
        named.forEach(field -> assertThat(reads[0]).as("check answer").contains("\"" + field + "\""));

        // reserve, send the event, settle: the settled reservation names the event
        assertThat(outputs.get(2)).contains("\"accepted\":1").contains("\"status\":\"settled\"")
                .contains("\"eventId\":\"evt-1\"");

        // loadgen, plans apply --dry-run, prices apply: each line the tour quotes is printed
        String tools = outputs.get(3);
        assertThat(tools).contains("using dev mode's addresses from .metering-dev/addresses.properties");
        Matcher quoted = QUOTED_OUTPUT.matcher(tourBlocks.get(3).after().replaceAll("\\s*\\n\\s*", " "));
        int quotedLines = 0;
        while (quoted.find()) {
            quotedLines++;
            Pattern line = generalized(quoted.group(1));
            assertThat(tools.lines().anyMatch(l -> line.matcher(l).matches()))
                    .as("the tour quotes `%s`; the commands printed:%n%s", quoted.group(1), tools).isTrue();
        }
        assertThat(quotedLines).as("loadgen's progress line, the dry run's orgs blocked and nothing stored").isEqualTo(3);
        assertThat(tools).contains("prices applied from examples/model-prices.csv");
        System.out.printf("README tour ran in %.1f s%n", (System.nanoTime() - started) / 1e9);

        // 3. Ctrl-C (SIGINT) or SIGTERM stops dev cleanly
        dev.destroy();
        assertThat(dev.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(dev.exitValue()).isZero();
        assertThat(Files.readString(devLog)).contains("stopped; data kept in " + work.resolve(".metering-dev"));
    }

    /**
     * The seed-003 roll-out walkthrough of docs/operations.md, which the README points to, run as
     * written against {@code dev} (without the demo, whose orgs hold plans the 003 catalog drops):
     * the subscriptions dry run prints the documented summary, then import, shadow, canary, enforce.
     */
    @Test
    void shouldRollOutAsTheOperationsWalkthroughSays() throws Exception {
        String walkthrough = section(Files.readString(OPERATIONS, StandardCharsets.UTF_8), "### Seed 003 walkthrough", "\n## ");
        Path work = readerDirectory();
        Ports ports = Ports.free();
        Path devLog = work.resolve("dev.log");
        dev = bash("java -jar metering-app/target/metering.jar dev" + ports.flags(), work).redirectOutput(devLog.toFile()).start();
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            assertThat(dev.isAlive()).as("dev is running; see %s", devLog).isTrue();
            return Files.readString(devLog).contains("metering dev is running.");
        });

        List<Block> rollout = blocks(walkthrough);
        List<Block> commands = rollout.stream().filter(b -> b.language().equals("bash")).toList();
        assertThat(commands).hasSize(2);
        String analyse = commands.get(0).text().replace("127.0.0.1:8080", "127.0.0.1:" + ports.api);
        // the dry run exits 1 (the example holds an invalid row), as the page says; a terminal goes on after it
        String analysed = runBlock(analyse, work, 1);
        List<String> printed = analysed.lines().map(String::strip).toList();
        List<String> summary = rollout.get(rollout.indexOf(commands.get(0)) + 1).text().lines()
                .map(String::strip).filter(l -> !l.isEmpty()).toList();
        assertThat(summary).as("the documented dry-run output").hasSizeGreaterThan(20).contains("dry run: nothing written");
        for (String shown : summary) {
            Pattern line = shown.contains("rows/s") ? generalized(shown) : Pattern.compile(Pattern.quote(shown));
            assertThat(printed.stream().anyMatch(l -> line.matcher(l).matches()))
                    .as("docs/operations.md shows `%s`; the dry run printed:%n%s", shown, analysed).isTrue();
        }

        // import (exit 1 again for the invalid row, the valid ones written), shadow, canary, enforce
        String shellVariables = analyse.lines().filter(l -> l.matches("[A-Z_]+=.*") && !l.endsWith("\\") && !l.contains("curl "))
                .collect(Collectors.joining("\n", "", "\n"));
        String enforced = runBlock(shellVariables + commands.get(1).text().replace("127.0.0.1:8080", "127.0.0.1:" + ports.api),
                work, 0);
        assertThat(enforced).contains("\"created\" : 6").contains("\"mode\":\"enforce\"");
    }

    private record Ports(int kafka, int registry, int postgres, int api) {

        static Ports free() {
            return new Ports(ServiceProcess.freePort(), ServiceProcess.freePort(), ServiceProcess.freePort(),
                    ServiceProcess.freePort());
        }

        /** dev's flags for these ports instead of 9092, 8081, 5433 and 8080. */
        String flags() {
            return " --kafka-port " + kafka + " --registry-port " + registry + " --postgres-port " + postgres
                    + " --api-port " + api;
        }
    }

    /** A directory laid out as the README expects: the jar where the build puts it, and {@code examples/}. */
    private static Path readerDirectory() throws IOException {
        Path work = Files.createDirectories(Path.of("target", "it", "readme" + Long.toHexString(System.nanoTime())))
                .toAbsolutePath();
        Files.createDirectories(work.resolve("metering-app/target"));
        Files.createSymbolicLink(work.resolve("metering-app/target/metering.jar"), ServiceProcess.jar());
        Files.createSymbolicLink(work.resolve("examples"), Path.of("..", "examples").toAbsolutePath().normalize());
        return work;
    }

    private record Block(String language, String text, String after) {
    }

    private static String section(String readme, String start, String end) {
        int from = readme.indexOf(start);
        int to = readme.indexOf(end, from);
        assertThat(from).as("README section %s", start).isNotNegative();
        assertThat(to).as("README section after %s", start).isGreaterThan(from);
        return readme.substring(from, to);
    }

    /** The fenced blocks of a section, each with the prose up to the next block. */
    private static List<Block> blocks(String section) {
        Matcher m = BLOCK.matcher(section);
        List<int[]> spans = new ArrayList<>();
        List<String[]> found = new ArrayList<>();
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
            found.add(new String[] {m.group(1), m.group(2)});
        }
        List<Block> out = new ArrayList<>();
        for (int i = 0; i < found.size(); i++) {
            int end = i + 1 < spans.size() ? spans.get(i + 1)[0] : section.length();
            out.add(new Block(found.get(i)[0], found.get(i)[1], section.substring(spans.get(i)[1], end)));
        }
        return out;
    }

    /**
     * A documented output line as a pattern: the dev ports replaced by the test's, timings, the
     * token, clock times, rates and counts of the live summary generalised; null for an elided line.
     */
    private static Pattern outputLine(String line, Ports ports) {
        if (line.isBlank() || line.contains("...")) {
            return null;
        }
        String text = line.replace("127.0.0.1:9092", "127.0.0.1:" + ports.kafka)
                .replace("127.0.0.1:8081", "127.0.0.1:" + ports.registry)
                .replace("127.0.0.1:5433", "127.0.0.1:" + ports.postgres)
                .replace("127.0.0.1:8080", "127.0.0.1:" + ports.api);
        if (text.startsWith("  top orgs by cost today: ") || text.startsWith("  dead letters: ")) {
            return Pattern.compile(Pattern.quote(text.substring(0, text.indexOf(": ") + 2)) + ".*");
        }
        String quoted = Pattern.quote(text)
                .replaceAll("\\(\\d+\\.\\d s\\)", "\\\\E\\\\([0-9.]+ s\\\\)\\\\Q")
                .replaceAll("dev-[0-9a-f]{48}", "\\\\Edev-[0-9a-f]{48}\\\\Q")
                .replace("/home/you/metering/", "\\E.*/\\Q");
        // the live summary's numbers, the alerts' usage and the demo receiver's free port vary by run
        if (text.startsWith("[") || text.startsWith("  check ") || text.startsWith("  demo checks ")
                || text.startsWith("  alert: ")
                || text.startsWith("demo: alerts go to the webhook")) {
            quoted = quoted.replaceAll("\\d+", "\\\\E\\\\d+\\\\Q");
        }
        return Pattern.compile(quoted);
    }

    /** A quoted output line with its example numbers and the placeholders X, Y, N generalised. */
    private static Pattern generalized(String quoted) {
        // digits first: the placeholders' replacement contains digits of its own
        return Pattern.compile(Pattern.quote(quoted)
                .replaceAll("\\d[\\d,]*", "\\\\E[0-9][0-9,]*\\\\Q")
                .replaceAll("\\b[XYN]\\b", "\\\\E[0-9]+\\\\Q"));
    }

    private static List<Pattern> unmatched(List<Pattern> documented, String output) {
        List<String> lines = output.lines().toList();
        return documented.stream().filter(p -> lines.stream().noneMatch(l -> p.matcher(l).matches())).toList();
    }

    /** Runs a block as one bash script (variables carry from line to line); fails unless every command succeeds. */
    private static String runBlock(String script, Path work) throws IOException, InterruptedException {
        return run("set -euo pipefail\n" + script, work, 0);
    }

    /** Runs a block as a reader's terminal would, going on after a failing command; fails unless it ends with {@code exit}. */
    private static String runBlock(String script, Path work, int exit) throws IOException, InterruptedException {
        return run("set -uo pipefail\n" + script, work, exit);
    }

    private static String run(String script, Path work, int exit) throws IOException, InterruptedException {
        Path log = Files.createTempFile(work, "block", ".log");
        Process p = bash(script, work).redirectOutput(log.toFile()).start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("the block did not finish in 3 minutes:\n" + script);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("exit of%n%s%nwhich printed%n%s", script, output).isEqualTo(exit);
        return output;
    }

    /** {@code bash -c}, with the test's JDK first on the PATH and no METERING_* variable of the test's own. */
    private static ProcessBuilder bash(String script, Path work) {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(work.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("METERING_"));
        pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
        return pb;
    }
}
