package dev.metering.sink;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/** {@link PipelineWatch.Broker} over Kafka's Admin client; every call bounded by {@code timeout}. */
final class AdminBroker implements PipelineWatch.Broker {

    private final Admin admin;
    private final Duration timeout;

    AdminBroker(Map<String, Object> properties, Duration timeout) {
        this.admin = Admin.create(properties);
        this.timeout = timeout;
    }

    @Override
    public Map<TopicPartition, Long> endOffsets(Collection<String> topics, boolean stableOnly) {
        Map<String, TopicDescription> described = get(admin.describeTopics(topics).allTopicNames());
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        described.forEach((name, d) -> {
            for (TopicPartitionInfo p : d.partitions()) {
                request.put(new TopicPartition(name, p.partition()), OffsetSpec.latest());
            }
        });
        ListOffsetsOptions options = new ListOffsetsOptions(stableOnly ? IsolationLevel.READ_COMMITTED
                : IsolationLevel.READ_UNCOMMITTED);
        Map<TopicPartition, Long> ends = new HashMap<>();
        get(admin.listOffsets(request, options).all()).forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    @Override
    public Map<TopicPartition, Long> committedOffsets(String groupId) {
        Map<TopicPartition, OffsetAndMetadata> offsets =
                get(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata());
        Map<TopicPartition, Long> out = new HashMap<>();
        offsets.forEach((tp, om) -> {
            if (om != null) {
                out.put(tp, om.offset());
            }
        });
        return out;
    }

    @Override
    public Set<String> topicsStartingWith(String prefix) {
        Set<String> out = new TreeSet<>();
        for (String name : get(admin.listTopics(new ListTopicsOptions().listInternal(false)).names())) {
            if (name.startsWith(prefix)) {
                out.add(name);
            }
        }
        return out;
    }

    private <T> T get(KafkaFuture<T> future) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof KafkaException k ? k : new KafkaException(e.getCause());
        } catch (TimeoutException e) {
            throw new org.apache.kafka.common.errors.TimeoutException("no answer from the broker within " + timeout);
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(2));
    }
}
