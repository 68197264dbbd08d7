package dev.metering.api.reservation;

import dev.metering.api.ApiException;
import dev.metering.api.account.BillingService;
import dev.metering.api.check.BillingAccount;
import dev.metering.api.check.CheckEvaluator;
import dev.metering.api.check.CheckResult;
import dev.metering.api.check.Holds;
import dev.metering.api.config.BillingApiConfig;
import dev.metering.api.store.UsageRepository;
import dev.metering.api.usage.UsageReader;
import dev.metering.api.usage.UsageSegment;
import dev.metering.api.usage.UsageTotals;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.jooq.DSLContext;

/**
 * Reservations: a check that, when allowed, holds its amount until it is settled, released or
 * expires (docs/contract.md, Reservations).
 *
 * <p>Two paths, both reading the live holds and the usage after taking the org's advisory lock:
 * <ul>
 * <li><b>shared</b>: when the request is the org's only one in flight in this instance and, for
 *     every limit and the prepaid balance, the room left is at least {@code lockFreeFactor} (K)
 *     times the amount requested. The lock is taken shared: other instances' shared reservations
 *     of the org run side by side with it.</li>
 * <li><b>exclusive</b>: otherwise. The lock is taken exclusive, which also waits for every shared
 *     one to commit; the requests of one org waiting in this instance are decided in one
 *     transaction, one after another, each counting the holds the earlier ones took (a hot org
 *     pays one transaction per batch, not per request).</li>
 * </ul>
 * An exclusive decision sees every hold committed before it, so it never overshoots. A shared one
 * can miss only the holds of the other shared reservations of the org in flight with it, at most
 * one per other instance (I instances: I - 1); the room it saw was at least K times its own amount
 * r, so a limit can end at most {@code (I - 1) * rMax - (K - 1) * r} above its cap: nothing for
 * equal amounts when K >= I.
 * Plain checks take no lock: they read the holds, then the usage.
 */
public final class ReservationService {

    /** Renders the stored JSON answer of a new reservation (null reservation: refused, nothing held). */
    @FunctionalInterface
    public interface Renderer {
        String render(CheckResult result, Reservation reservation);
    }

    /** What a {@code POST .../reservations} answers: the JSON, and whether it repeats an earlier answer. */
    public record Answer(String json, boolean repeated, boolean held) {
    }

    /** At most this many waiting requests of one org are decided in one exclusive transaction. */
    static final int MAX_BATCH = 256;

    /** How long an org found near a limit skips the shared attempt (how soon it can be found far again). */
    private static final long NEAR_NANOS = 1_000_000_000L;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final DSLContext dsl;
    private final ReservationRepository reservations;
    private final UsageRepository usage;
    private final BillingService billing;
    private final CheckEvaluator evaluator;
    private final Clock clock;
    private final int lockFreeFactor;
    private final ConcurrentHashMap<String, OrgQueue> queues = new ConcurrentHashMap<>();
    // reservations in flight in this instance, per org (absent: none)
    private final ConcurrentHashMap<String, Integer> inFlight = new ConcurrentHashMap<>();
    // orgs found near a limit, by System.nanoTime() (a hint, not business time: no clock); the
    // periodic clean-up drops stale entries
    private final ConcurrentHashMap<String, Long> near = new ConcurrentHashMap<>();

    public ReservationService(DSLContext dsl, ReservationRepository reservations, UsageRepository usage,
                              BillingService billing, CheckEvaluator evaluator, Clock clock) {
        this(dsl, reservations, usage, billing, evaluator, clock, BillingApiConfig.DEFAULT_LOCK_FREE_FACTOR);
    }

    /** @param lockFreeFactor K (see the class comment); 0: every reservation takes the exclusive path */
    public ReservationService(DSLContext dsl, ReservationRepository reservations, UsageRepository usage,
                              BillingService billing, CheckEvaluator evaluator, Clock clock, int lockFreeFactor) {
        if (lockFreeFactor < 0) {
            throw new IllegalArgumentException("lockFreeFactor must be >= 0");
        }
        this.dsl = dsl;
        this.reservations = reservations;
        this.usage = usage;
        this.billing = billing;
        this.evaluator = evaluator;
        this.clock = clock;
        this.lockFreeFactor = lockFreeFactor;
    }

    public Answer reserve(ReservationRequest r, Renderer renderer) {
        // atomic per org: at most one shared reservation of an org in flight in this instance
        boolean alone = inFlight.merge(r.orgId(), 1, Integer::sum) == 1;
        try {
            if (lockFreeFactor > 0 && alone && !nearRecently(r.orgId())) {
                Answer shared = reserveShared(r, renderer);
                if (shared != null) {
                    return shared;
                }
                near.put(r.orgId(), System.nanoTime());
            }
            return reserveExclusive(r, renderer);
        } finally {
            inFlight.compute(r.orgId(), (org, n) -> n == 1 ? null : n - 1);
        }
    }

    /**
     * Whether a shared attempt of this org found it near a limit within {@link #NEAR_NANOS}: then
     * the next ones go to the exclusive path directly instead of reading everything twice.
     */
    private boolean nearRecently(String orgId) {
        Long since = near.get(orgId);
        if (since == null) {
            return false;
        }
        if (System.nanoTime() - since < NEAR_NANOS) {
            return true;
        }
        near.remove(orgId, since);
        return false;
    }

    /** The shared path; null when the org is not far enough from a limit (or a retry needs the exclusive one). */
    private Answer reserveShared(ReservationRequest r, Renderer renderer) {
        BillingAccount account = billing.account(r.orgId());
        return dsl.transactionResult(cfg -> {
            DSLContext tx = cfg.dsl();
            reservations.lockOrgShared(tx, r.orgId());
            // the usage snapshot is taken before the holds are read, so a settled hold stops
            // counting only once the usage has it
            Instant now = clock.instant();
            var freshness = billing.freshness(now);
            Holds holds = reservations.live(tx, r.orgId(), now, billing.cache().progress().usageAsOf());
            CheckResult margin = evaluator.check(r.check().times(lockFreeFactor), account, usage.on(tx), holds,
                    freshness, now);
            if (margin.wouldBlock()) {
                return null;
            }
            // nothing would block K times the amount: the request's own answer is the same
            Reservation hold = newHold(r, now);
            String json = renderer.render(margin, hold);
            if (reservations.insertIfAbsent(tx, withAnswer(hold, json))) {
                return new Answer(json, false, true);
            }
            return repeat(reservations.byRequestId(tx, r.orgId(), r.requestId()).orElseThrow(), r);
        });
    }

    /** Waits for this instance's exclusive transaction of the org that decides {@code r}, leading it if none runs. */
    private Answer reserveExclusive(ReservationRequest r, Renderer renderer) {
        Pending mine = new Pending(r, renderer, new CompletableFuture<>());
        OrgQueue q = queues.computeIfAbsent(r.orgId(), k -> new OrgQueue());
        boolean lead;
        synchronized (q) {
            q.waiting.add(mine);
            lead = !q.leading;
            q.leading = true;
        }
        if (!lead) {
            Answer answer = await(mine);
            if (answer != LEAD) {
                return answer;
            }
            // this thread leads now; its request is still waiting
            mine.answer = new CompletableFuture<>();
        }
        while (!mine.answer.isDone()) {
            List<Pending> batch = new ArrayList<>();
            synchronized (q) {
                while (!q.waiting.isEmpty() && batch.size() < MAX_BATCH) {
                    batch.add(q.waiting.poll());
                }
            }
            decide(r.orgId(), batch);
        }
        synchronized (q) {
            if (q.waiting.isEmpty()) {
                q.leading = false;
                // a thread that still finds this queue leads it alone: only batching is lost
                queues.remove(r.orgId(), q);
            } else {
                // the next waiting request's thread leads the next transaction
                q.waiting.peek().answer.complete(LEAD);
            }
        }
        return await(mine);
    }

    /** Decides a batch of one org's requests in one exclusive transaction; completes each request's answer. */
    private void decide(String orgId, List<Pending> batch) {
        Map<Pending, Object> outcomes = new HashMap<>();
        try {
            BillingAccount account = billing.account(orgId);
            dsl.transaction(cfg -> {
                outcomes.clear();
                DSLContext tx = cfg.dsl();
                reservations.lockOrg(tx, orgId);
                Set<String> requestIds = new LinkedHashSet<>();
                batch.forEach(p -> requestIds.add(p.request.requestId()));
                Map<String, Reservation> earlier = reservations.byRequestIds(tx, orgId, requestIds);
                // after the lock, so every hold committed before it is seen
                Instant now = clock.instant();
                var freshness = billing.freshness(now);
                Holds holds = reservations.live(tx, orgId, now, billing.cache().progress().usageAsOf());
                UsageReader reader = new BatchUsage(usage.on(tx));
                List<Reservation> inserts = new ArrayList<>();
                for (Pending p : batch) {
                    ReservationRequest r = p.request;
                    try {
                        Reservation before = earlier.get(r.requestId());
                        if (before != null) {
                            outcomes.put(p, repeat(before, r));
                            continue;
                        }
                        CheckResult result = evaluator.check(r.check(), account, reader, holds, freshness, now);
                        if (!result.allowed()) {
                            outcomes.put(p, new Answer(p.renderer.render(result, null), false, false));
                            continue;
                        }
                        Reservation hold = newHold(r, now);
                        hold = withAnswer(hold, p.renderer.render(result, hold));
                        inserts.add(hold);
                        earlier.put(r.requestId(), hold);
                        holds = holds.plus(new Holds.Hold(r.feature(), r.userId(), r.conversationId(), r.quantity(),
                                r.tokens(), r.costUsd()), hold.expiresAt());
                        outcomes.put(p, new Answer(hold.answer(), false, true));
                    } catch (ApiException e) {
                        outcomes.put(p, e);
                    }
                }
                reservations.insertAll(tx, inserts);
            });
        } catch (RuntimeException e) {
            batch.forEach(p -> p.answer.completeExceptionally(e));
            return;
        }
        for (Pending p : batch) {
            Object o = outcomes.get(p);
            if (o instanceof Answer a) {
                p.answer.complete(a);
            } else {
                p.answer.completeExceptionally((ApiException) o);
            }
        }
    }

    private static Answer repeat(Reservation earlier, ReservationRequest r) {
        if (!earlier.sameRequest(r)) {
            throw new ApiException(409, "REQUEST_ID_REUSED", "requestId", "requestId '" + r.requestId()
                    + "' was used for another request (feature, dimensions, amounts or ttlSeconds differ)");
        }
        return new Answer(earlier.answer(), true, true);
    }

    private static Reservation newHold(ReservationRequest r, Instant now) {
        return new Reservation(newId(), r.orgId(), r.requestId(), r.feature(), r.userId(), r.conversationId(),
                r.quantity(), r.tokens(), r.costUsd(), r.ttlSeconds(), now, now.plusSeconds(r.ttlSeconds()), null,
                null, null, null);
    }

    private static Answer await(Pending p) {
        try {
            return p.answer.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }

    /** Marks the request whose thread leads the next transaction (never returned to a caller). */
    private static final Answer LEAD = new Answer("", false, false);

    private static final class Pending {
        final ReservationRequest request;
        final Renderer renderer;
        volatile CompletableFuture<Answer> answer;

        Pending(ReservationRequest request, Renderer renderer, CompletableFuture<Answer> answer) {
            this.request = request;
            this.renderer = renderer;
            this.answer = answer;
        }
    }

    /** One org's requests waiting for an exclusive transaction in this instance; guarded by itself. */
    private static final class OrgQueue {
        final ArrayDeque<Pending> waiting = new ArrayDeque<>();
        boolean leading;
    }

    /** The usage of one batch: every request of it reads the same snapshot, so equal reads are read once. */
    private static final class BatchUsage implements UsageReader {
        private final UsageReader reader;
        private final Map<Set<UsageSegment>, Map<UsageSegment, UsageTotals>> totals = new HashMap<>();

        BatchUsage(UsageReader reader) {
            this.reader = reader;
        }

        @Override
        public Map<UsageSegment, UsageTotals> totals(String orgId, Set<UsageSegment> segments) {
            return totals.computeIfAbsent(Set.copyOf(segments), k -> reader.totals(orgId, segments));
        }

        @Override
        public Map<Instant, UsageTotals> hourly(String orgId, UsageSegment range) {
            return reader.hourly(orgId, range);
        }
    }

    /**
     * Turns a hold into pending usage: it keeps counting until the usage tables count its event,
     * at most {@code ttlSeconds} from now (or its expiry, if later). Repeating a settle with the same
     * eventId answers the same.
     */
    public Reservation settle(String orgId, String id, String eventId) {
        Optional<Reservation> held = reservations.settleIfHeld(orgId, id, clock.instant(), eventId);
        if (held.isPresent()) {
            return held.get();
        }
        return dsl.transactionResult(cfg -> {
            DSLContext tx = cfg.dsl();
            Instant now = clock.instant();
            Reservation r = reservations.byIdForUpdate(tx, orgId, id).orElseThrow(() -> notFound(id));
            switch (r.status(now)) {
                case "settled":
                    if (!java.util.Objects.equals(r.eventId(), eventId)) {
                        throw new ApiException(409, "RESERVATION_SETTLED", "eventId", "reservation " + id
                                + " was already settled with eventId " + r.eventId());
                    }
                    return r;
                case "released":
                    throw new ApiException(409, "RESERVATION_RELEASED", null, "reservation " + id
                            + " was released and holds nothing to settle");
                case "expired":
                    throw new ApiException(409, "RESERVATION_EXPIRED", null, "reservation " + id + " expired at "
                            + r.expiresAt() + "; its hold was released");
                default:
                    Instant until = max(r.expiresAt(), now.plusSeconds(r.ttlSeconds()));
                    reservations.settle(tx, id, now, eventId, until);
                    return new Reservation(r.id(), r.orgId(), r.requestId(), r.feature(), r.userId(),
                            r.conversationId(), r.quantity(), r.tokens(), r.costUsd(), r.ttlSeconds(), r.createdAt(),
                            until, now, eventId, null, r.answer());
            }
        });
    }

    /** Releases a hold; releasing one that is already released or expired changes nothing. */
    public void release(String orgId, String id) {
        if (reservations.releaseIfHeld(orgId, id, clock.instant())) {
            return;
        }
        dsl.transaction(cfg -> {
            DSLContext tx = cfg.dsl();
            Instant now = clock.instant();
            Reservation r = reservations.byIdForUpdate(tx, orgId, id).orElseThrow(() -> notFound(id));
            switch (r.status(now)) {
                case "settled":
                    throw new ApiException(409, "RESERVATION_SETTLED", null, "reservation " + id
                            + " was settled: its amount is usage now");
                case "held":
                    reservations.release(tx, id, now);
                    break;
                default:
                    break;
            }
        });
    }

    /** The org's live holds for a plain check or the limits report (one indexed read). */
    public Holds live(String orgId, Instant now, Instant usageAsOf) {
        return reservations.live(orgId, now, usageAsOf);
    }

    /** Periodic clean-up (see {@link ReservationRepository#cleanUp}). */
    public int cleanUp() {
        long now = System.nanoTime();
        near.values().removeIf(since -> now - since >= NEAR_NANOS);
        return reservations.cleanUp(clock.instant(), billing.cache().progress().usageAsOf());
    }

    private static ApiException notFound(String id) {
        return new ApiException(404, "RESERVATION_NOT_FOUND", null, "no reservation '" + id + "' for this org");
    }

    private static Reservation withAnswer(Reservation r, String answer) {
        return new Reservation(r.id(), r.orgId(), r.requestId(), r.feature(), r.userId(), r.conversationId(),
                r.quantity(), r.tokens(), r.costUsd(), r.ttlSeconds(), r.createdAt(), r.expiresAt(), r.settledAt(),
                r.eventId(), r.releasedAt(), answer);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static String newId() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return "res_" + HexFormat.of().formatHex(bytes);
    }

}
