package dev.metering.api.ingest;

import dev.metering.api.ApiException;
import dev.metering.api.auth.Principal;
import dev.metering.api.kafka.KafkaClients;
import dev.metering.api.price.CostEstimator;
import dev.metering.avro.UsageEvent;
import dev.metering.events.InvalidUsageEventException;
import dev.metering.events.UsageEventValidator;
import dev.metering.events.UsageMeter;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP ingest: validates each event with the shared {@link UsageEventValidator} (the Java
 * client's rules), sends the valid ones with the client's idempotent {@link UsageMeter} (key
 * orgId, Confluent Avro), and returns only after Kafka acknowledged every one of them
 * ({@code acks=all}).
 *
 * <p>Bounded: the whole request waits at most the configured delivery timeout plus the
 * producer's max block; if Kafka does not acknowledge every valid event in that time, the answer
 * is 503 and the caller resends the batch with the same {@code eventId}s (acknowledged ones are
 * then deduplicated by the streams app).
 *
 * <p>Each accepted event is answered with its {@code eventId} and a {@link CostEstimator cost
 * estimate} from the price book at ingest time; the pipeline's count stays authoritative.
 */
public final class IngestService {

    private static final Logger log = LoggerFactory.getLogger(IngestService.class);

    /** One refused event of a batch. */
    public record Rejection(int index, String code, String field, String message) {
    }

    /** One accepted event: its index, its eventId (the producer's or the generated one) and its estimated cost. */
    public record Accepted(int index, String eventId, String costUsd) {
    }

    /** The answer: how many went to Kafka, what was refused, and each accepted event. */
    public record Result(int accepted, List<Rejection> rejected, List<Accepted> events) {
        /** 202 when something was accepted; else 403 when an event was another org's, else 400 (docs/contract.md, HTTP API). */
        public int status() {
            if (accepted > 0) {
                return 202;
            }
            return rejected.stream().anyMatch(r -> r.code().equals("FORBIDDEN")) ? 403 : 400;
        }
    }

    /** One parsed event (or its shape problem) at its index in the request. */
    record Item(int index, UsageEvent event, EventJson.Problem problem) {
    }

    private final KafkaClients kafka;
    private final CostEstimator costs;

    /** {@code costs} null: accepted events carry no estimate ({@code costUsd} null). */
    public IngestService(KafkaClients kafka, CostEstimator costs) {
        this.kafka = kafka;
        this.costs = costs;
    }

    Result ingest(List<Item> items, Principal principal) {
        Instant now = kafka.clock().instant();
        List<Rejection> rejected = new ArrayList<>();
        List<Item> valid = new ArrayList<>();
        for (Item item : items) {
            if (item.problem() != null) {
                rejected.add(new Rejection(item.index(), item.problem().code(), item.problem().field(),
                        item.problem().message()));
                continue;
            }
            UsageEvent e = item.event();
            if (!principal.isAdmin() && !e.getOrgId().isEmpty() && !e.getOrgId().equals(principal.orgId())) {
                rejected.add(new Rejection(item.index(), "FORBIDDEN", "orgId",
                        "this key may only send events of its own org"));
                continue;
            }
            List<UsageEventValidator.Violation> violations = UsageEventValidator.validate(e, now);
            if (!violations.isEmpty()) {
                violations.forEach(v -> rejected.add(new Rejection(item.index(), v.code(), v.field(), v.message())));
                continue;
            }
            Rejection late = late(item, now);
            if (late != null) {
                rejected.add(late);
                continue;
            }
            valid.add(item);
        }
        if (valid.isEmpty()) {
            return new Result(0, rejected, List.of());
        }
        UsageMeter meter = kafka.meter();
        long deadline = System.nanoTime() + kafka.deliveryTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1);
        List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>(valid.size());
        List<Item> sent = new ArrayList<>(valid.size());
        for (Item item : valid) {
            CompletableFuture<RecordMetadata> ack;
            try {
                ack = meter.record(item.event()).toCompletableFuture();
            } catch (InvalidUsageEventException e) {
                // valid a moment ago, invalid now (occurredAt crossed the future bound): refuse it
                e.violations().forEach(v -> rejected.add(new Rejection(item.index(), v.code(), v.field(), v.message())));
                continue;
            }
            // Kafka reports a metadata timeout (broker unreachable) at once: stop sending
            if (ack.isCompletedExceptionally() || System.nanoTime() > deadline) {
                throw unavailable(valid.size(), cause(ack));
            }
            acks.add(ack);
            sent.add(item);
        }
        int accepted = 0;
        for (CompletableFuture<RecordMetadata> ack : acks) {
            try {
                ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                accepted++;
            } catch (ExecutionException | TimeoutException e) {
                throw unavailable(valid.size(), e instanceof ExecutionException ? e.getCause() : e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw unavailable(valid.size(), e);
            }
        }
        rejected.sort((a, b) -> Integer.compare(a.index(), b.index()));
        return new Result(accepted, rejected, accepted(sent));
    }

    /** Every sent event with its estimated cost (null without an estimator or a price in force). */
    private List<Accepted> accepted(List<Item> sent) {
        CostEstimator.Book book = costs == null ? null : costs.book();
        List<Accepted> out = new ArrayList<>(sent.size());
        for (Item item : sent) {
            BigDecimal cost = book == null ? null : book.estimate(item.event());
            out.add(new Accepted(item.index(), item.event().getEventId(), cost == null ? null : money(cost)));
        }
        return out;
    }

    private static String money(BigDecimal d) {
        return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
    }

    /**
     * The streams' LATE rule (AggregateStage), with now standing for stream time: an event whose
     * hour window ended more than the grace ago would be dead-lettered, so it is refused here.
     */
    private Rejection late(Item item, Instant now) {
        Instant hour = item.event().getOccurredAt().truncatedTo(ChronoUnit.HOURS);
        Instant closesAt = hour.plus(Duration.ofHours(1)).plus(kafka.grace());
        if (closesAt.isAfter(now)) {
            return null;
        }
        return new Rejection(item.index(), "LATE", "occurredAt", "occurredAt " + item.event().getOccurredAt()
                + " is in the hour window starting " + hour + ", closed at " + closesAt + " (window end + grace "
                + kafka.grace() + "); it would not be counted");
    }

    private static Throwable cause(CompletableFuture<?> f) {
        try {
            f.getNow(null);
            return null;
        } catch (RuntimeException e) {
            return e.getCause() == null ? e : e.getCause();
        }
    }

    private static ApiException unavailable(int events, Throwable cause) {
        log.warn("ingest of {} events not acknowledged by Kafka: {}", events, String.valueOf(cause));
        return new ApiException(503, "UNAVAILABLE", null, "Kafka did not acknowledge the events in time; "
                + "resend the whole batch with the same eventIds (duplicates are counted once)");
    }
}
