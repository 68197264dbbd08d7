package dev.metering.app;

import dev.metering.api.audit.Actor;
import dev.metering.api.plan.CatalogParser;
import dev.metering.app.demo.DemoAlertReceiver;
import dev.metering.app.demo.DemoSummary;
import dev.metering.app.demo.DemoTraffic;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "dev", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the whole pipeline in this process on real local infrastructure: Kafka, schema registry, "
                + "PostgreSQL, migrations, the example price book and plan catalog, streams, sink and billing API.",
            "Data lives under --data-dir, so a restart continues where it stopped. Ctrl-C stops everything.",
            "With --infra-only it starts only PostgreSQL, Kafka and the registry (with migrations, prices and plans) "
                + "and prints the exports to run streams, sink and api as separate processes.",
            "Other METERING_* variables (e.g. METERING_ENFORCEMENT, METERING_GRACE) apply as in production."})
final class DevCommand implements Callable<Integer> {

    @Option(names = "--demo", description = "also generate demo traffic and print a live summary every few seconds")
    boolean demo;

    @Option(names = "--infra-only", description = "start PostgreSQL, Kafka and the registry only; run streams, sink "
            + "and api yourself with the printed exports")
    boolean infraOnly;

    @Option(names = "--data-dir", defaultValue = "${env:METERING_DEV_DIR:-.metering-dev}",
            description = "where broker, registry, PostgreSQL and streams state live (env METERING_DEV_DIR; default: ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--kafka-port", defaultValue = "${env:METERING_DEV_KAFKA_PORT:-9092}",
            description = "Kafka on 127.0.0.1 (env METERING_DEV_KAFKA_PORT; default: ${DEFAULT-VALUE})")
    int kafkaPort;

    @Option(names = "--registry-port", defaultValue = "${env:METERING_DEV_REGISTRY_PORT:-8081}",
            description = "schema registry on 127.0.0.1 (env METERING_DEV_REGISTRY_PORT; default: ${DEFAULT-VALUE})")
    int registryPort;

    @Option(names = "--postgres-port", defaultValue = "${env:METERING_DEV_POSTGRES_PORT:-5433}",
            description = "PostgreSQL on 127.0.0.1 (env METERING_DEV_POSTGRES_PORT; default: ${DEFAULT-VALUE})")
    int postgresPort;

    @Option(names = "--api-port", defaultValue = "${env:METERING_API_PORT:-8080}",
            description = "billing API (env METERING_API_PORT; default: ${DEFAULT-VALUE})")
    int apiPort;

    @Option(names = "--prices", paramLabel = "CSV",
            description = "price book to apply at start (default: the bundled examples/model-prices.csv)")
    Path prices;

    @Option(names = "--plans", paramLabel = "FILE",
            description = "plan catalog to store when none is stored yet (default: the bundled "
                    + "examples/000-chat-rate-limiting.yaml)")
    Path plans;

    @Option(names = "--demo-rate", defaultValue = "40", description = "demo events per second (default: ${DEFAULT-VALUE})")
    int demoRate;

    @Option(names = "--alert-port", defaultValue = "${env:METERING_DEV_ALERT_PORT:-0}",
            description = "port of the demo's local webhook receiver, which prints alerts (default: a free port)")
    int alertPort;

    @Option(names = "--summary-every", defaultValue = "5s",
            description = "demo summary interval (default: ${DEFAULT-VALUE})", converter = DurationConverter.class)
    Duration summaryEvery;

    @Override
    public Integer call() throws Exception {
        FullJar.require("dev");
        PrintStream out = System.out;
        Files.createDirectories(dataDir.resolve("logs"));
        Logging.addFileLog(dataDir.resolve("logs").resolve("metering.log"));
        String token = adminToken(dataDir);

        CountDownLatch stop = new CountDownLatch(1);
        Signals.onInterruptOrTerminate(stop::countDown);

        out.println("metering dev: starting (data in " + dataDir.toAbsolutePath() + ", logs in "
                + dataDir.resolve("logs").toAbsolutePath() + ")");
        Map<String, String> extra = new TreeMap<>();
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("METERING_")) {
                extra.put(k, v);
            }
        });
        if (infraOnly && demo) {
            throw new UserException("--demo needs the services: drop --infra-only", 2, null);
        }
        DevStack.Settings settings = new DevStack.Settings(dataDir, kafkaPort, registryPort, postgresPort, apiPort,
                token, 4, extra);
        if (infraOnly) {
            return runInfrastructure(settings, token, stop, out);
        }
        DevStack stack = DevStack.start(settings, line -> out.println("  " + line));
        DevAddresses.write(dataDir, stack.env());
        DemoTraffic traffic = null;
        DemoSummary summary = null;
        DemoAlertReceiver alerts = null;
        try {
            applyPrices(stack, out);
            applyPlansIfNoneStored(stack, out);
            printBanner(out, stack, token);
            if (demo) {
                alerts = DemoAlertReceiver.start(alertPort, stack.apiUrl(), token, out);
                out.println("demo: alerts go to the webhook " + alerts.url() + " (signatures verified, printed as they arrive)");
                traffic = DemoTraffic.start(stack.env(), stack.api().service(), demoRate, stack.apiUrl(), token);
                summary = DemoSummary.start(stack.env(), stack.streams(), stack.sink(), stack.apiUrl(), token,
                        traffic, summaryEvery, out);
                out.println("demo: " + traffic.describe());
            }
            stop.await();
            out.println("\nstopping ...");
        } finally {
            if (summary != null) {
                summary.close();
            }
            if (traffic != null) {
                traffic.close();
            }
            if (alerts != null) {
                alerts.close();
            }
            stack.close();
        }
        out.println("stopped; data kept in " + dataDir.toAbsolutePath());
        return 0;
    }

    private int runInfrastructure(DevStack.Settings settings, String token, CountDownLatch stop, PrintStream out)
            throws Exception {
        DevStack stack = DevStack.startInfrastructure(settings, line -> out.println("  " + line));
        try {
            stack.createTopics();
            applyPrices(stack, out);
            if (!stack.storePlansIfNoneStored(plansSource(), plansFormat(), plansName())) {
                out.println("  Plans        a catalog is stored already (kept)");
            } else {
                out.println("  Plans        " + plansName());
            }
            Map<String, String> env = stack.env();
            DevAddresses.write(dataDir, env);
            out.println();
            out.println("metering dev (infrastructure only) is running. Ctrl-C stops it.");
            out.println("  Kafka            " + stack.kafka().bootstrapServers());
            out.println("  Schema registry  " + stack.registry().confluentUrl());
            out.println("  PostgreSQL       " + stack.postgres().jdbcUrl() + "  (user " + stack.postgres().user()
                    + ", password " + stack.postgres().password() + ")");
            out.println("  Admin token      " + token);
            out.println();
            out.println("Run each service in its own terminal with these variables:");
            for (String name : DevStack.SERVICE_VARIABLES) {
                out.println("  export " + name + "=" + shellQuote(env.get(name)));
            }
            out.println("  java -jar metering-app/target/metering.jar streams   # likewise sink, api");
            out.println();
            stop.await();
            out.println("\nstopping ...");
        } finally {
            stack.close();
        }
        out.println("stopped; data kept in " + dataDir.toAbsolutePath());
        return 0;
    }

    private static String shellQuote(String value) {
        return value.matches("[A-Za-z0-9_./:@=,+-]+") ? value : "'" + value.replace("'", "'\\''") + "'";
    }

    private String plansSource() throws IOException {
        return plans != null ? Files.readString(plans, StandardCharsets.UTF_8) : resource("examples/000-chat-rate-limiting.yaml");
    }

    private CatalogParser.Format plansFormat() {
        return plans != null && plans.toString().endsWith(".json") ? CatalogParser.Format.JSON : CatalogParser.Format.YAML;
    }

    private String plansName() {
        return plans != null ? plans.toString() : "examples/000-chat-rate-limiting.yaml";
    }

    private void applyPrices(DevStack stack, PrintStream out) throws Exception {
        String csv = prices != null ? Files.readString(prices, StandardCharsets.UTF_8) : resource("examples/model-prices.csv");
        int models = stack.applyPrices(csv, prices != null ? prices.toString() : "examples/model-prices.csv");
        out.println("  Prices       " + models + " models (" + (prices != null ? prices : "examples/model-prices.csv") + ")");
    }

    private void applyPlansIfNoneStored(DevStack stack, PrintStream out) throws IOException {
        var service = stack.api().service();
        if (service.catalog().stored() != null) {
            out.println("  Plans        catalog version " + service.catalog().version() + " (stored earlier, kept)");
            return;
        }
        String yaml = plans != null ? Files.readString(plans, StandardCharsets.UTF_8)
                : resource("examples/000-chat-rate-limiting.yaml");
        CatalogParser.Format format = plans != null && plans.toString().endsWith(".json") ? CatalogParser.Format.JSON
                : CatalogParser.Format.YAML;
        long version = service.putCatalog(yaml, format, Actor.tool("dev", java.time.Instant.now()));
        out.println("  Plans        catalog version " + version + " ("
                + (plans != null ? plans : "examples/000-chat-rate-limiting.yaml") + ")");
    }

    static String resource(String name) throws IOException {
        try (InputStream in = DevCommand.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("resource " + name + " is not in the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** METERING_ADMIN_TOKEN, else the token kept in the data dir, else a new random one (kept for restarts). */
    static String adminToken(Path dataDir) throws IOException {
        String env = System.getenv("METERING_ADMIN_TOKEN");
        if (env != null && !env.isBlank()) {
            return env;
        }
        Path file = dataDir.resolve("admin-token");
        if (Files.isReadable(file)) {
            return Files.readString(file, StandardCharsets.US_ASCII).strip();
        }
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        String token = "dev-" + HexFormat.of().formatHex(bytes);
        Files.writeString(file, token + "\n", StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
        return token;
    }

    private static void printBanner(PrintStream out, DevStack stack, String token) {
        String api = stack.apiUrl();
        String now = java.time.Instant.now().toString();
        out.println();
        out.println("metering dev is running. Ctrl-C stops everything.");
        out.println("  Kafka            " + stack.kafka().bootstrapServers());
        out.println("  Schema registry  " + stack.registry().confluentUrl());
        out.println("  PostgreSQL       " + stack.postgres().jdbcUrl() + "  (user " + stack.postgres().user()
                + ", password " + stack.postgres().password() + ")");
        out.println("  Billing API      " + api);
        out.println("  Admin token      " + token);
        out.println("  Dashboard        " + api + "/  (paste the admin token; API docs at " + api + "/docs)");
        out.println();
        out.println("Try it (another terminal):");
        out.println("  export METERING_ADMIN_TOKEN=" + token);
        out.println("  # 1. send an event through the HTTP ingest (JVM services embed UsageMeter; see README)");
        out.println("  curl -s -X POST -H \"Authorization: Bearer $METERING_ADMIN_TOKEN\" -H 'Content-Type: application/json' "
                + api + "/api/v1/events \\");
        out.println("    -d '{\"orgId\":\"org-00001\",\"feature\":\"CHAT_MESSAGE\",\"userId\":\"u-42\",\"provider\":\"openai\","
                + "\"model\":\"gpt-5-mini\",\"inputTokens\":820,\"outputTokens\":210}'");
        out.println("  # 2. can org-00001 send a chat message now?");
        out.println("  curl -s -H \"Authorization: Bearer $METERING_ADMIN_TOKEN\" " + api
                + "/api/v1/usage/org-00001/check/CHAT_MESSAGE");
        out.println("  # 3. its limits and usage");
        out.println("  curl -s -H \"Authorization: Bearer $METERING_ADMIN_TOKEN\" " + api + "/api/v1/usage/org-00001/limits");
        out.println("  (started " + now + ")");
        out.println();
    }
}
