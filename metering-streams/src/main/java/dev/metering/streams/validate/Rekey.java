package dev.metering.streams.validate;

import dev.metering.avro.UsageEvent;
import dev.metering.events.DeadLetterHeaders.Reason;
import dev.metering.events.registry.SchemaRegistryException;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.Origin;
import dev.metering.streams.OriginHeaders;
import dev.metering.streams.deadletter.Refusal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Re-keying of records whose Kafka key is not their orgId (a foreign producer that keyed by
 * something else, or by nothing, or partitioned with another hash). Dedupe and aggregation run per task without a repartition
 * because every state key starts with the orgId and the input is partitioned by orgId; a
 * mis-keyed record would break that, so it goes once through the named repartition topic
 * {@code <application.id>-rekey-by-org-repartition}, keyed by orgId, carrying its ORIGINAL value
 * bytes and (in internal headers) its original key and coordinates, and is decoded again on
 * the other side. Correctly keyed records (all of our own producers) never take this path.
 */
public final class Rekey {

    private Rekey() {
    }

    /**
     * True when the record's Kafka key is exactly its orgId in UTF-8 and, when the partition
     * count is known ({@code partitions > 0}), it sits on the partition Kafka's default
     * partitioner (murmur2, as used by every Java producer and by Kafka Streams) assigns to that
     * key. A producer with another partitioner (librdkafka's default is CRC32) would otherwise
     * split one org over two tasks.
     */
    public static boolean isPlacedByOrg(MeteredEvent e, int partitions) {
        byte[] key = e.origin().key();
        byte[] org = e.event().getOrgId().getBytes(StandardCharsets.UTF_8);
        if (key == null || !Arrays.equals(key, org)) {
            return false;
        }
        return partitions <= 0 || Utils.toPositive(Utils.murmur2(org)) % partitions == e.origin().partition();
    }

    /** Before the repartition: key = orgId, value = original bytes, origin in headers. */
    public static final class ToRepartition implements Processor<String, MeteredEvent, String, byte[]> {
        private ProcessorContext<String, byte[]> context;

        @Override
        public void init(ProcessorContext<String, byte[]> context) {
            this.context = context;
        }

        @Override
        public void process(Record<String, MeteredEvent> record) {
            Origin origin = record.value().origin();
            Record<String, byte[]> out = new Record<>(record.value().event().getOrgId(), origin.value(), record.timestamp(),
                    record.headers());
            OriginHeaders.write(out.headers(), origin);
            context.forward(out);
        }
    }

    /** After the repartition: decode again (the bytes were valid a moment ago) and restore the origin. */
    public static final class FromRepartition implements Processor<String, byte[], String, MeteredEvent> {
        private final Deserializer<UsageEvent> deserializer;
        private ProcessorContext<String, MeteredEvent> context;

        public FromRepartition(Deserializer<UsageEvent> deserializer) {
            this.deserializer = deserializer;
        }

        @Override
        public void init(ProcessorContext<String, MeteredEvent> context) {
            this.context = context;
        }

        @Override
        public void process(Record<String, byte[]> record) {
            Origin origin = OriginHeaders.read(record.headers(), record.value());
            if (origin == null) {
                origin = new Origin(null, record.value(), "", -1, -1, record.timestamp());
            }
            MeteredEvent out;
            try {
                out = MeteredEvent.accepted(deserializer.deserialize(origin.topic(), record.headers(), record.value()), origin);
            } catch (RuntimeException e) {
                if (SchemaRegistryException.isTransient(e)) {
                    throw new RegistryUnavailableException("schema registry unavailable while decoding a rekeyed event: "
                            + e.getMessage(), e);
                }
                out = MeteredEvent.refused(null, origin, new Refusal(Reason.MALFORMED, ValidateStage.STAGE, String.valueOf(e.getMessage())));
            }
            context.forward(record.withValue(out));
        }
    }
}
