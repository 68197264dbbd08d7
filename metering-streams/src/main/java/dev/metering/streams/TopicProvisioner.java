package dev.metering.streams;

import dev.metering.events.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the pipeline's topics when they are missing (an existing topic is left exactly as
 * it is):
 * <ul>
 *   <li>usage events: the raw log replays start from, retention 35 days;</li>
 *   <li>prices: compacted (one record per model, history inside the record), 1 partition;</li>
 *   <li>dead letters: retention 35 days;</li>
 *   <li>aggregates: {@code compact,delete} with 35 days: the sink only ever needs the latest
 *       totals of a window key, and expired windows age out;</li>
 *   <li>priced events (the event log, written only when it is on): retention 35 days.</li>
 * </ul>
 */
public final class TopicProvisioner {

    public static final Duration RETENTION = Duration.ofDays(35);

    private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

    private TopicProvisioner() {
    }

    /** Creates what is missing and returns the events topic's partition count. */
    public static int ensureTopics(Map<String, Object> adminProperties, Topics topics, int partitions,
            Optional<Short> replicationFactor, boolean create) {
        try (Admin admin = Admin.create(adminProperties)) {
            if (create) {
                String retention = Long.toString(RETENTION.toMillis());
                List<NewTopic> wanted = new ArrayList<>();
                wanted.add(new NewTopic(topics.events(), Optional.of(partitions), replicationFactor)
                        .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, retention)));
                wanted.add(new NewTopic(topics.prices(), Optional.of(1), replicationFactor)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
                wanted.add(new NewTopic(topics.deadLetters(), Optional.of(partitions), replicationFactor)
                        .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, retention)));
                wanted.add(new NewTopic(topics.aggregates(), Optional.of(partitions), replicationFactor)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG,
                                TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE,
                                TopicConfig.RETENTION_MS_CONFIG, retention)));
                wanted.add(new NewTopic(topics.priced(), Optional.of(partitions), replicationFactor)
                        .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, retention)));
                Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                List<NewTopic> missing = wanted.stream().filter(t -> !existing.contains(t.name())).toList();
                for (NewTopic topic : missing) {
                    try {
                        admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
                        LOG.info("created topic {} ({} partitions, {})", topic.name(), topic.numPartitions(), topic.configs());
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof TopicExistsException)) {
                            throw e;
                        }
                    }
                }
            }
            TopicDescription events = admin.describeTopics(List.of(topics.events())).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topics.events());
            int actual = events.partitions().size();
            if (actual != partitions) {
                LOG.warn("topic {} has {} partitions, METERING_TOPIC_PARTITIONS says {}: using {}", topics.events(), actual,
                        partitions, actual);
            }
            return actual;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create or describe the pipeline's topics: " + e.getMessage(), e);
        }
    }
}
