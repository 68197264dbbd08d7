package dev.metering.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar metering.jar <command>}: every service and tool of the pipeline in one jar.
 * Exit codes: 0 done, 1 failed, 2 invalid configuration or usage.
 */
@Command(name = "metering", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Usage metering pipeline: dev mode, services, operations and tools.",
        subcommands = {
            DevCommand.class, StreamsCommand.class, SinkCommand.class, ApiCommand.class, MigrateCommand.class,
            PlansCommand.class, PricesCommand.class, ImportCommands.Subscriptions.class, ImportCommands.Credits.class, AuditCommand.class,
            LoadgenCommand.class, BenchCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        Logging.configureFor(args);
        System.exit(commandLine().execute(args));
    }

    /** The command line as {@code main} runs it (tests use it too). */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof dev.metering.events.config.ConfigException ce) {
                commandLine.getErr().println("invalid configuration:");
                ce.problems().forEach(p -> commandLine.getErr().println("  " + p));
                return 2;
            }
            if (e instanceof UserException ue) {
                commandLine.getErr().println("error: " + ue.getMessage());
                return ue.exitCode();
            }
            throw e;
        });
        return cli;
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** The version from the jar's manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"metering " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}
