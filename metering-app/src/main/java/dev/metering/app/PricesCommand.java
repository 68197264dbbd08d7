package dev.metering.app;

import dev.metering.api.config.KafkaSettings;
import dev.metering.api.price.PriceService;
import dev.metering.app.prices.PriceBooks;
import dev.metering.events.Topics;
import dev.metering.events.config.ConfigSource;
import dev.metering.events.config.DbSettings;
import dev.metering.events.config.KafkaClientProperties;
import dev.metering.streams.TopicProvisioner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "prices", mixinStandardHelpOptions = true, description = "Manages the model price book.",
        subcommands = PricesCommand.Apply.class)
final class PricesCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = {"Applies a price book CSV (provider,model,input_per_1m_usd,cached_input_per_1m_usd,"
                    + "output_per_1m_usd,effective_from[,unit_usd]; USD per 1M tokens): upserts "
                    + "metering.model_prices and publishes one ModelPrice per model to the prices topic.",
                "Configuration: METERING_DB_URL, METERING_KAFKA_BOOTSTRAP, METERING_SCHEMA_REGISTRY_URL (required), "
                    + "METERING_DB_USER, METERING_DB_PASSWORD, METERING_TOPIC_PREFIX, METERING_KAFKA_<PROPERTY>."})
    static final class Apply implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "FILE", description = "the CSV, e.g. examples/model-prices.csv")
        Path file;

        @Override
        public Integer call() throws Exception {
            ConfigSource source = DevAddresses.source();
            source.requiredString(KafkaClientProperties.BOOTSTRAP);
            KafkaSettings settings = KafkaSettings.from(source);
            Map<String, Object> kafka = KafkaClientProperties.kafka(source);
            Topics topics = Topics.from(source);
            int partitions = source.intInRange("METERING_TOPIC_PARTITIONS", 12, 1, 10_000);
            DbSettings db = DbSettings.from(source);
            source.throwIfInvalid();
            if (!Files.isReadable(file)) {
                throw new UserException("cannot read " + file);
            }
            String csv = Files.readString(file, StandardCharsets.UTF_8);
            if (!topicExists(kafka, topics.prices())) {
                // the same topics the streams service creates, in case prices come first
                TopicProvisioner.ensureTopics(kafka, topics, partitions, Optional.empty(), true);
            }
            PriceService.Applied applied = PriceBooks.apply(csv, file.toString(), db.url(), db.user(), db.password(), settings);
            System.out.println("prices applied from " + file + ": " + applied.versions() + " price version(s) in "
                    + "metering.model_prices, " + applied.models() + " model(s) published to " + topics.prices());
            return 0;
        }

        private static boolean topicExists(Map<String, Object> kafka, String topic) throws Exception {
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(kafka)) {
                return admin.listTopics().names().get(30, java.util.concurrent.TimeUnit.SECONDS).contains(topic);
            }
        }
    }
}
