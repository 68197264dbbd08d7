package dev.metering.api.check;

import dev.metering.api.plan.LimitScope;
import dev.metering.api.plan.PlanLimit;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * An org's live reservation holds, summed per (feature, user, conversation). A hold counts against
 * every current window of each limit it falls under (the feature matches; for user and
 * conversation scope, the same user or conversation), whatever window its usage will land in: a
 * hold lives at most a day and over-counting while it lives is the safe side.
 */
public record Holds(List<Hold> holds, Supplier<List<TimedHold>> timed) {

    public static final Holds NONE = new Holds(List.of(), List::of);

    /** The amounts held for one (feature, user, conversation); user and conversation may be null. */
    public record Hold(String feature, String userId, String conversationId, long quantity, long tokens,
                       BigDecimal costUsd) {
        public Hold {
            Objects.requireNonNull(feature, "feature");
            costUsd = costUsd == null ? BigDecimal.ZERO : costUsd;
        }
    }

    /**
     * One live hold with its expiry; {@code settled}: its amount becomes usage of the current window
     * rather than leaving at its expiry.
     */
    public record TimedHold(Hold hold, Instant expiresAt, boolean settled) {
        public TimedHold {
            Objects.requireNonNull(hold, "hold");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
    }

    /**
     * @param timed the same holds one by one with their expiry, read only when asked (a refused
     *              request's retry time) and answered by expiry, earliest first; null: unknown,
     *              every hold is taken to outlive the window
     */
    public Holds {
        holds = List.copyOf(holds);
        timed = timed == null ? null : memo(timed);
    }

    public Holds(List<Hold> holds) {
        this(holds, null);
    }

    /** These holds and one more, just taken, expiring at {@code expiresAt}. */
    public Holds plus(Hold hold, Instant expiresAt) {
        List<Hold> more = new ArrayList<>(holds.size() + 1);
        more.addAll(holds);
        more.add(hold);
        Supplier<List<TimedHold>> before = timed;
        return new Holds(more, before == null ? null : () -> {
            List<TimedHold> t = new ArrayList<>(before.get());
            t.add(new TimedHold(hold, expiresAt, false));
            return t;
        });
    }

    /** Whether hold {@code h} counts against limit {@code l} for a request by this user in this conversation. */
    static boolean counts(Hold h, PlanLimit l, String userId, String conversationId) {
        return l.appliesTo(h.feature())
                && (l.scope() != LimitScope.USER || userId != null && userId.equals(h.userId()))
                && (l.scope() != LimitScope.CONVERSATION || conversationId != null
                && conversationId.equals(h.conversationId()));
    }

    private static Supplier<List<TimedHold>> memo(Supplier<List<TimedHold>> read) {
        return new Supplier<>() {
            private List<TimedHold> value;

            @Override
            public synchronized List<TimedHold> get() {
                if (value == null) {
                    List<TimedHold> byExpiry = new ArrayList<>(read.get());
                    byExpiry.sort(java.util.Comparator.comparing(TimedHold::expiresAt));
                    value = List.copyOf(byExpiry);
                }
                return value;
            }
        };
    }

    public boolean isEmpty() {
        return holds.isEmpty();
    }

    /** What is held against limit {@code l} for a request by {@code userId} in {@code conversationId}. */
    public BigDecimal held(PlanLimit l, String userId, String conversationId) {
        BigDecimal sum = BigDecimal.ZERO;
        for (Hold h : holds) {
            if (!counts(h, l, userId, conversationId)) {
                continue;
            }
            sum = sum.add(CheckEvaluator.amount(l, h.quantity(), h.tokens(), h.costUsd()));
        }
        return sum;
    }

    /** The money held against the prepaid balance. */
    public BigDecimal costUsd() {
        BigDecimal sum = BigDecimal.ZERO;
        for (Hold h : holds) {
            sum = sum.add(h.costUsd());
        }
        return sum;
    }
}
