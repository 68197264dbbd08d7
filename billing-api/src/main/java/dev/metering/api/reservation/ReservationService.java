package dev.metering.api.reservation;

import dev.metering.api.ApiException;
import dev.metering.api.account.BillingService;
import dev.metering.api.check.BillingAccount;
import dev.metering.api.check.CheckEvaluator;
import dev.metering.api.check.CheckResult;
import dev.metering.api.check.Holds;
import dev.metering.api.store.UsageRepository;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import org.jooq.DSLContext;

/**
 * Reservations: a check that, when allowed, holds its amount until it is settled, released or
 * expires (docs/contract.md, Reservations).
 *
 * <p>Exactness: a reservation takes the org's advisory lock, then reads the live holds and the
 * usage on the same connection, decides and inserts its hold before committing; so reservations of
 * one org, through any instance, are decided one after another, each seeing every hold committed
 * before it. Plain checks take no lock: they read the holds, then the usage.
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

    private static final SecureRandom RANDOM = new SecureRandom();

    private final DSLContext dsl;
    private final ReservationRepository reservations;
    private final UsageRepository usage;
    private final BillingService billing;
    private final CheckEvaluator evaluator;
    private final Clock clock;

    public ReservationService(DSLContext dsl, ReservationRepository reservations, UsageRepository usage,
                              BillingService billing, CheckEvaluator evaluator, Clock clock) {
        this.dsl = dsl;
        this.reservations = reservations;
        this.usage = usage;
        this.billing = billing;
        this.evaluator = evaluator;
        this.clock = clock;
    }

    public Answer reserve(ReservationRequest r, Renderer renderer) {
        BillingAccount account = billing.account(r.orgId());
        return dsl.transactionResult(cfg -> {
            DSLContext tx = cfg.dsl();
            reservations.lockOrg(tx, r.orgId());
            Optional<Reservation> earlier = reservations.byRequestId(tx, r.orgId(), r.requestId());
            if (earlier.isPresent()) {
                if (!earlier.get().sameRequest(r)) {
                    throw new ApiException(409, "REQUEST_ID_REUSED", "requestId", "requestId '" + r.requestId()
                            + "' was used for another request (feature, dimensions, amounts or ttlSeconds differ)");
                }
                return new Answer(earlier.get().answer(), true, true);
            }
            // after the lock, so every hold committed before it is seen; the usage snapshot is taken
            // before the holds are read, so a settled hold stops counting only once the usage has it
            Instant now = clock.instant();
            var freshness = billing.freshness(now);
            Holds holds = reservations.live(tx, r.orgId(), now, billing.cache().progress().usageAsOf());
            CheckResult result = evaluator.check(r.check(), account, usage.on(tx), holds, freshness, now);
            if (!result.allowed()) {
                return new Answer(renderer.render(result, null), false, false);
            }
            Reservation hold = new Reservation(newId(), r.orgId(), r.requestId(), r.feature(), r.userId(),
                    r.conversationId(), r.quantity(), r.tokens(), r.costUsd(), r.ttlSeconds(), now,
                    now.plusSeconds(r.ttlSeconds()), null, null, null, null);
            String json = renderer.render(result, hold);
            reservations.insert(tx, withAnswer(hold, json));
            return new Answer(json, false, true);
        });
    }

    /**
     * Turns a hold into pending usage: it keeps counting until the usage tables count its event,
     * at most {@code ttlSeconds} from now (or its expiry, if later). Repeating a settle with the same
     * eventId answers the same.
     */
    public Reservation settle(String orgId, String id, String eventId) {
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
