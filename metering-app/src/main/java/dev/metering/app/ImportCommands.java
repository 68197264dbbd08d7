package dev.metering.app;

import dev.metering.events.config.ConfigSource;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code subscriptions import} and {@code credits import}: bulk files through the running API. */
final class ImportCommands {

    private ImportCommands() {
    }

    /** The options both imports share; the API does the validation and the writing. */
    abstract static class ImportFile implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "FILE", description = "CSV with a header, or JSON lines (.jsonl, .ndjson)")
        Path file;

        @Option(names = "--dry-run", description = "report what the import would do, write nothing")
        boolean dryRun;

        @Option(names = "--batch-size", defaultValue = "5000",
                description = "rows per request, each written atomically (default ${DEFAULT-VALUE}, at most 100000)")
        int batchSize;

        abstract BulkImport.Kind kind();

        @Override
        public Integer call() throws Exception {
            ConfigSource env = DevAddresses.source();
            String url = env.string("METERING_API_URL", "http://127.0.0.1:8080");
            String token = env.string("METERING_ADMIN_TOKEN", null);
            if (token == null) {
                throw new UserException("METERING_ADMIN_TOKEN is required (an admin key of the API)");
            }
            if (batchSize < 1 || batchSize > 100_000) {
                throw new UserException("--batch-size must be 1-100000, got " + batchSize);
            }
            if (!Files.isReadable(file)) {
                throw new UserException("cannot read " + file);
            }
            String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
            boolean csv = !(name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json"));
            return BulkImport.run(kind(), URI.create(url.endsWith("/") ? url : url + "/"), token,
                    Files.readString(file, StandardCharsets.UTF_8), csv, batchSize, dryRun, System.out, System.err);
        }
    }

    @Command(name = "subscriptions", mixinStandardHelpOptions = true, description = "Bulk subscription changes.",
            subcommands = SubscriptionsImport.class)
    static final class Subscriptions implements Runnable {

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = {
        "Creates or replaces subscriptions from FILE (columns orgId,planId,status,periodStart,periodEnd,seats,"
                + "enforcement and override.<limitId>; docs/contract.md, Imports) through POST /api/v1/subscriptions/import, "
                + "in batches with progress; prints rows, valid, invalid (with FILE line numbers), byPlan, created, "
                + "replaced, unchanged, blockedNow, blockedNowBefore. Idempotent by orgId: run it again after a failure.",
        "Configuration: METERING_API_URL (default http://127.0.0.1:8080), METERING_ADMIN_TOKEN (required)."})
    static final class SubscriptionsImport extends ImportFile {
        @Override
        BulkImport.Kind kind() {
            return BulkImport.SUBSCRIPTIONS;
        }
    }

    @Command(name = "credits", mixinStandardHelpOptions = true, description = "Bulk prepaid credits.",
            subcommands = CreditsImport.class)
    static final class Credits implements Runnable {

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = {
        "Grants credits from FILE (columns orgId,amountUsd,reason,expiresAt,grantId) through POST /api/v1/credits/import, "
                + "in batches with progress. Each (orgId, grantId) is granted once: running it again grants nothing twice.",
        "Configuration: METERING_API_URL (default http://127.0.0.1:8080), METERING_ADMIN_TOKEN (required)."})
    static final class CreditsImport extends ImportFile {
        @Override
        BulkImport.Kind kind() {
            return BulkImport.CREDITS;
        }
    }
}
