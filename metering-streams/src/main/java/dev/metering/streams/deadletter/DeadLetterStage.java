package dev.metering.streams.deadletter;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.metering.events.DeadLetterHeaders;
import dev.metering.streams.MeteredEvent;
import dev.metering.streams.Origin;
import dev.metering.streams.OriginHeaders;
import dev.metering.streams.metrics.MeteringMetrics;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Turns a refused {@link MeteredEvent} into a dead letter.
 *
 * <p>Input: refused events from the validate and aggregate stages. Output:
 * {@code metering.usage.dlq}, key and value = the ORIGINAL key and value bytes, untouched, with
 * the original record's headers plus the {@link DeadLetterHeaders} (reason, message, stage,
 * original topic, partition, offset, timestamp). Guarantee: every refused record is written
 * exactly once (same transaction as the input offsets); nothing is dropped silently.
 */
public final class DeadLetterStage implements Processor<Object, MeteredEvent, byte[], byte[]> {

    private final MeteringMetrics metrics;
    private ProcessorContext<byte[], byte[]> context;

    public DeadLetterStage(MeteringMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<Object, MeteredEvent> record) {
        MeteredEvent refused = record.value();
        Origin origin = refused.origin();
        Refusal why = refused.refusal();
        Headers headers = new RecordHeaders(record.headers().toArray());
        OriginHeaders.strip(headers);
        put(headers, DeadLetterHeaders.REASON, why.reason().name());
        put(headers, DeadLetterHeaders.MESSAGE, why.message());
        put(headers, DeadLetterHeaders.STAGE, why.stage());
        put(headers, DeadLetterHeaders.ORIGINAL_TOPIC, origin.topic());
        put(headers, DeadLetterHeaders.ORIGINAL_PARTITION, Integer.toString(origin.partition()));
        put(headers, DeadLetterHeaders.ORIGINAL_OFFSET, Long.toString(origin.offset()));
        put(headers, DeadLetterHeaders.ORIGINAL_TIMESTAMP, Long.toString(origin.timestamp()));
        metrics.deadLettered(why.reason());
        context.forward(new Record<>(origin.key(), origin.value(), origin.timestamp(), headers));
    }

    private static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value == null ? null : value.getBytes(UTF_8));
    }
}
